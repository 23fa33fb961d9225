// A small REST service that is not a GraphQL subgraph: readers' star ratings of Masthead's
// pieces, by slug, described by examples/reviews-openapi.json. `masthead gateway --source
// reviews=openapi:examples/reviews-openapi.json --joins examples/reviews-joins.graphql` joins it
// to Masthead's articles (docs/federation.md). Run it with
//
//   PORT=4002 npx tsx examples/reviews-service.ts
//
// The test suite serves the same service (tests/federation.test.ts).
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';

/** A reader's rating of a piece, as the OpenAPI document describes it. */
export interface Review {
  articleSlug: string;
  stars: number;
  text: string;
}

/** The service as a node:http server (not listening yet): GET /reviews?articleSlug=SLUG, newest first. */
export function createReviewsService(reviews: Review[] = []): Server & { requests: string[] } {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://reviews.local');
    requests.push(`${request.method} ${url.pathname}${url.search}`);
    if (request.method !== 'GET' || url.pathname !== '/reviews') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'not found' }));
      return;
    }
    const slug = url.searchParams.get('articleSlug');
    if (!slug) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'articleSlug is required' }));
      return;
    }
    const found = reviews.filter((review) => review.articleSlug === slug).reverse();
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(found));
  });
  return Object.assign(server, { requests });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = Number(process.env.PORT ?? 4002);
  const host = process.env.HOST ?? '127.0.0.1';
  createReviewsService([]).listen(port, host, () => {
    console.log(`reviews service serves http://${host}:${port}/reviews`);
  });
}
