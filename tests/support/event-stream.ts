/** One Server-Sent Event as a client reads it; `comment` for heartbeat lines. */
export interface ReadEvent {
  id: string | null;
  event: string;
  data: string;
}

export interface OpenStream {
  status: number;
  headers: Headers;
  /** The body when the answer is not a stream (a refusal). */
  text: string | null;
  /** The next event (heartbeats counted, not returned); rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<ReadEvent>;
  /** Events that arrive within `ms`. */
  collect(ms: number): Promise<ReadEvent[]>;
  heartbeats(): number;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens a GraphQL-over-SSE stream with fetch and parses its events, as an EventSource would. */
export async function openStream(
  url: string,
  query: string,
  { method = 'POST', lastEventId, headers = {} }: { method?: 'GET' | 'POST'; lastEventId?: string; headers?: Record<string, string> } = {},
): Promise<OpenStream> {
  const controller = new AbortController();
  const target = method === 'GET' ? `${url}/graphql?query=${encodeURIComponent(query)}` : `${url}/graphql`;
  const response = await fetch(target, {
    method,
    signal: controller.signal,
    headers: {
      accept: 'text/event-stream',
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
      ...headers,
    },
    ...(method === 'POST' ? { body: JSON.stringify({ query }) } : {}),
  });
  const streaming = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const queue: ReadEvent[] = [];
  const waiters: Array<() => void> = [];
  let heartbeats = 0;
  let done = false;
  let resolveEnded: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  const text = streaming ? null : await response.text();
  if (streaming && response.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event: ReadEvent = { id: null, event: 'message', data: '' };
            let comment = true;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              comment = false;
              const colon = line.indexOf(':');
              const field = colon === -1 ? line : line.slice(0, colon);
              const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'id') event.id = value;
              else if (field === 'event') event.event = value;
              else if (field === 'data') event.data = event.data === '' ? value : `${event.data}\n${value}`;
            }
            if (comment) heartbeats++;
            else queue.push(event);
            for (const waiter of waiters.splice(0)) waiter();
          }
        }
      } catch {
        // Aborted by close().
      }
      done = true;
      resolveEnded();
      for (const waiter of waiters.splice(0)) waiter();
    })();
  } else {
    done = true;
    resolveEnded();
  }
  const next = async (timeoutMs = 5000): Promise<ReadEvent> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = queue.shift();
      if (event) return event;
      if (done) throw new Error('the stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  return {
    status: response.status,
    headers: response.headers,
    text,
    next,
    async collect(ms) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return queue.splice(0);
    },
    heartbeats: () => heartbeats,
    ended,
    close: () => controller.abort(),
  };
}
