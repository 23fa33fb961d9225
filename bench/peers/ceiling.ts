// The ceiling: a hand-written node:http handler that knows the benchmark's documents,
// sends Masthead's statements for each (through PeerStore: prepared, on the bare driver) and
// writes the same JSON. No GraphQL at all: the physical limit for these payloads on this store.
import { createServer, type IncomingMessage } from 'node:http';
import { AUTHOR_DASHBOARD, AUTHORS_OVERVIEW, ISSUE_PAGE, SUBSCRIBE, TYPENAME } from '../workloads.ts';
import { HOST, openPeerStore, PORT, readBody, serveMetrics, socketAddress, subscribe } from './common.ts';

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
  const [author] = await store.authorsBySlugs([String(variables.slug)], now);
  if (!author) return { author: null };
  const [stats, pages] = await Promise.all([store.authorStats([author.id], now), store.authorArticles([author.id], 21, now)]);
  const own = (pages.get(author.id) ?? []).slice(0, 20);
  const issueIds = [...new Set(own.flatMap((article) => (article.issue_id === null ? [] : [article.issue_id])))];
  const issues = new Map((await store.issuesByIds(issueIds, now)).map((issue) => [issue.id, issue]));
  return {
    author: {
      name: author.name,
      articleCount: stats.get(author.id)?.articleCount ?? 0,
      lastPublishedAt: stats.get(author.id)?.lastPublishedAt ?? null,
      articles: {
        edges: own.map((article) => ({
          node: {
            headline: article.headline,
            publishedAt: article.published_at,
            issue: article.issue_id === null ? null : { number: issues.get(article.issue_id)?.number },
          },
        })),
      },
    },
  };
}

async function authorsOverview() {
  const now = new Date().toISOString();
  const top = (await store.authorsByArticleCount(21, now)).slice(0, 20);
  const pages = await store.authorArticles(
    top.map((a) => a.id),
    4,
    now,
  );
  return {
    authors: {
      edges: top.map((ranked) => ({
        node: {
          name: ranked.name,
          slug: ranked.slug,
          articleCount: ranked.stats.articleCount,
          articles: {
            edges: (pages.get(ranked.id) ?? []).slice(0, 3).map((article) => ({ node: { headline: article.headline, publishedAt: article.published_at } })),
          },
        },
      })),
    },
  };
}

const handlers = new Map<string, (variables: Variables, req: IncomingMessage) => Promise<unknown>>([
  [TYPENAME, async () => ({ __typename: 'Query' })],
  [AUTHORS_OVERVIEW, authorsOverview],
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
