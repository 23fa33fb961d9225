import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** GraphiQL's page, once rendered: the HTML and its compressed forms, with the ETag of all three. */
interface RenderedPage {
  html: Buffer;
  br: Buffer;
  gzip: Buffer;
  etag: string;
}

/** Browsers may keep the page for a day and must ask again after: the ETag then answers 304. */
const CACHE_CONTROL = 'public, max-age=86400, must-revalidate';

function preferredEncoding(acceptEncoding: string | null): 'br' | 'gzip' | null {
  if (acceptEncoding === null) return null;
  const offered = acceptEncoding
    .toLowerCase()
    .split(',')
    .map((part) => part.trim());
  const accepts = (name: string) => offered.some((part) => part === name || (part.startsWith(`${name};`) && !/;\s*q=0(\.0*)?$/.test(part)));
  if (accepts('br')) return 'br';
  if (accepts('gzip')) return 'gzip';
  return null;
}

/**
 * GraphiQL for browsers, rendered once and sent compressed. Its page inlines the whole editor
 * (some 9 MB of script, as its assets come from the package rather than a CDN, so that it works on
 * a closed network): rendered per request and sent as it is, every visit cost that much CPU and
 * bandwidth. Here the page is rendered on the first visit and compressed then, off the event loop
 * (Brotli at quality 5: 9 MB to 1.9 MB in about 2 s once; quality 9 saves 4% more for 8 s; gzip,
 * 2.4 MB, for clients without Brotli), and answered with an ETag, so a browser that has it gets a 304.
 * The bundle's module is loaded only then, too: it is some 60 MB of resident memory.
 */
export function useGraphiQLDelivery(): { renderGraphiQL: (options: GraphiQLOptions) => Promise<string>; plugin: Plugin } {
  let page: Promise<RenderedPage> | null = null;
  const render = (options: GraphiQLOptions): Promise<RenderedPage> => {
    page ??= (async () => {
      const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
      const html = Buffer.from(renderGraphiQL(options), 'utf8');
      const [br, gz] = await Promise.all([brotli(html, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }), gzipped(html)]);
      return { html, br, gzip: gz, etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"` };
    })();
    return page;
  };
  return {
    renderGraphiQL: async (options) => (await render(options)).html.toString('utf8'),
    plugin: {
      async onResponse({ request, response, setResponse, fetchAPI }) {
        // The one HTML answer of /graphql is GraphiQL's page, rendered above before Yoga answers with it.
        if (page === null || !(response.headers.get('content-type') ?? '').startsWith('text/html')) return;
        if (new URL(request.url).pathname !== '/graphql' || response.status !== 200) return;
        const rendered = await page;
        const headers: Record<string, string> = { 'cache-control': CACHE_CONTROL, etag: rendered.etag, vary: 'accept, accept-encoding' };
        for (const [name, value] of response.headers) if (!(name in headers) && name !== 'content-length' && name !== 'content-encoding') headers[name] = value;
        if (request.headers.get('if-none-match') === rendered.etag) {
          setResponse(new fetchAPI.Response(null, { status: 304, headers }));
          return;
        }
        const encoding = preferredEncoding(request.headers.get('accept-encoding'));
        const body = encoding === null ? rendered.html : rendered[encoding];
        if (encoding !== null) headers['content-encoding'] = encoding;
        headers['content-length'] = String(body.length);
        setResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers }));
      },
    },
  };
}
