// The ceiling: a hand-written node:http handler that knows the benchmark's three documents,
// sends Masthead's statements for each (through PeerStore: prepared, on the bare driver) and
// writes the same JSON. No GraphQL at all: the physical limit for these payloads on this store.
import { createServer, type IncomingMessage } from 'node:http';
import { AUTHOR_DASHBOARD, ISSUE_PAGE, SUBSCRIBE } from '../workloads.ts';
import { HOST, openPeerStore, PORT, readBody, serveMetrics, socketAddress, subscribe } from './common.ts';
import type { ArticleRow } from './store.ts';

const store = openPeerStore();

type Variables = Record<string, unknown>;

async function issuePage(variables: Variables) {
  const now = new Date().toISOString();
  const [issue] = await store.issuesByNumbers([Number(variables.number)], now);
  if (!issue) return { issue: null };
  const page = (await store.issueArticles([issue.id], 51, now)).get(issue.id)?.slice(0, 50) ?? [];
  const bylines = page.length > 0 ? await store.bylines(page.map((article) => article.id)) : new Map();
  return {
    issue: {
      number: issue.number,
      articles: {
        edges: page.map((article) => ({
          node: {
            headline: article.headline,
            publishedAt: article.published_at,
            authors: (bylines.get(article.id) ?? []).map((author: { name: string; slug: string }) => ({ name: author.name, slug: author.slug })),
          },
        })),
      },
    },
  };
}

async function authorDashboard(variables: Variables) {
  const now = new Date().toISOString();
  const [[author], ranked] = await Promise.all([store.authorsBySlugs([String(variables.slug)], now), store.authorsByArticleCount(21, now)]);
  const top = ranked.slice(0, 20);
  const [stats, ownPages, topPages] = await Promise.all([
    store.authorStats([...new Set([...(author ? [author.id] : []), ...top.map((a) => a.id)])], now),
    author ? store.authorArticles([author.id], 21, now) : new Map<number, ArticleRow[]>(),
    store.authorArticles(
      top.map((a) => a.id),
      4,
      now,
    ),
  ]);
  const own = author ? (ownPages.get(author.id) ?? []).slice(0, 20) : [];
  const issueIds = [...new Set(own.flatMap((article) => (article.issue_id === null ? [] : [article.issue_id])))];
  const issues = new Map((await store.issuesByIds(issueIds, now)).map((issue) => [issue.id, issue]));
  return {
    author: author
      ? {
          articleCount: stats.get(author.id)?.articleCount ?? 0,
          lastPublishedAt: stats.get(author.id)?.lastPublishedAt ?? null,
          articles: {
            edges: own.map((article) => ({
              node: {
                headline: article.headline,
                issue: article.issue_id === null ? null : { number: issues.get(article.issue_id)?.number },
              },
            })),
          },
        }
      : null,
    authors: {
      edges: top.map((ranked) => ({
        node: {
          name: ranked.name,
          articleCount: stats.get(ranked.id)?.articleCount ?? 0,
          articles: { edges: (topPages.get(ranked.id) ?? []).slice(0, 3).map((article) => ({ node: { headline: article.headline } })) },
        },
      })),
    },
  };
}

const handlers = new Map<string, (variables: Variables, req: IncomingMessage) => Promise<unknown>>([
  [ISSUE_PAGE, issuePage],
  [AUTHOR_DASHBOARD, authorDashboard],
  [
    SUBSCRIBE,
    async (variables, req) => ({
      subscribe: await subscribe(
        store,
        { email: String(variables.email), newsletter: String(variables.newsletter) },
        {
          address: socketAddress(req.socket.remoteAddress),
          userAgent: req.headers['user-agent'] ?? null,
        },
      ),
    }),
  ],
]);

createServer(async (req, res) => {
  if (serveMetrics(store, req, res)) return;
  try {
    const { query, variables } = JSON.parse(await readBody(req)) as { query: string; variables?: Variables };
    const handler = handlers.get(query);
    if (!handler) {
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' }).end('{"errors":[{"message":"not a benchmark document"}]}');
      return;
    }
    const data = await handler(variables ?? {}, req);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ data }));
  } catch (error) {
    console.error(error);
    res.writeHead(500).end();
  }
}).listen(PORT, HOST);
