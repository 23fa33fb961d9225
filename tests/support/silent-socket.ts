import net from 'node:net';

export interface SilentSocket {
  /** A redis:// URL of it. */
  url: string;
  close(): Promise<void>;
}

/** A listening socket that accepts connections and never answers: a Redis that hangs. */
export async function listenSilently(): Promise<SilentSocket> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
