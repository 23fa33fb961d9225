import type { Plugin } from 'graphql-yoga';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';

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

/** The operational endpoints beside /graphql: /healthz, /readyz and /metrics. */
export function useOperationalEndpoints(store: Store, metrics: Metrics): Plugin {
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        new fetchAPI.Response(JSON.stringify(body), {
          status,
          headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
        });
      const path = url.pathname;
      if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(json(405, { error: `${path} answers GET only` }, { allow: 'GET, HEAD' }));
        return;
      }
      if (path === '/healthz') {
        endResponse(json(200, { status: 'ok' }));
      } else if (path === '/readyz') {
        try {
          await withTimeout(store.ping(), READY_TIMEOUT_MS);
          endResponse(json(200, { status: 'ready', store: store.dialect }));
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          endResponse(json(503, { status: 'unavailable', store: store.dialect, reason }));
        }
      } else {
        endResponse(
          new fetchAPI.Response(metrics.render(), {
            status: 200,
            headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' },
          }),
        );
      }
    },
  };
}
