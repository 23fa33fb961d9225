// Loaded into `masthead serve` by the soak (`node --expose-gc --import` this file). On the message
// 'memory' over the IPC channel it answers with the process's memory after a full collection, so
// that the soak compares live memory rather than garbage not yet collected. Plain JavaScript: it
// loads before tsx is registered.
process.on('message', (message) => {
  if (message !== 'memory') return;
  globalThis.gc?.();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  process.send?.({ rss, heapUsed, heapTotal, external });
});
// The channel must not keep the process alive once the server has stopped.
process.channel?.unref();
