import type { FetchAPI, Plugin } from 'graphql-yoga';
import type { Metrics } from '../../metrics.ts';
import type { Store } from '../../store/store.ts';

const READY_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** An answer of an operational endpoint: JSON, never cached. */
export function jsonResponse(fetchAPI: FetchAPI, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new fetchAPI.Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

/** Endpoints beside /graphql that answer GET (and HEAD) only, each path from its handler. */
export function useGetEndpoints(handlers: Record<string, (fetchAPI: FetchAPI) => Promise<Response> | Response>): Plugin {
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      const handler = Object.hasOwn(handlers, url.pathname) ? handlers[url.pathname] : undefined;
      if (!handler) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(jsonResponse(fetchAPI, 405, { error: `${url.pathname} answers GET only` }, { allow: 'GET, HEAD' }));
        return;
      }
      endResponse(await handler(fetchAPI));
    },
  };
}

/** Masthead's operational endpoints beside /graphql: /healthz, /readyz and /metrics. */
export function useOperationalEndpoints(store: Store, metrics: Metrics): Plugin {
  return useGetEndpoints({
    '/healthz': (fetchAPI) => jsonResponse(fetchAPI, 200, { status: 'ok' }),
    '/readyz': async (fetchAPI) => {
      try {
        await withTimeout(store.ping(), READY_TIMEOUT_MS);
        return jsonResponse(fetchAPI, 200, { status: 'ready', store: store.dialect });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return jsonResponse(fetchAPI, 503, { status: 'unavailable', store: store.dialect, reason });
      }
    },
    '/metrics': async (fetchAPI) =>
      new fetchAPI.Response(await metrics.render(), {
        status: 200,
        headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' },
      }),
  });
}
