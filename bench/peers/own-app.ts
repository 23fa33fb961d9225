// The app a user would write for these pages instead of running Masthead: its own small SDL for
// the fields the workloads read, resolvers, one DataLoader per per-parent field and request, and
// plain SQL on the bare driver (better-sqlite3 or pg) against the same tables. Nothing here comes
// from Masthead (not its schema, repositories, loaders or helpers). Where this SQL differs from
// Masthead's, and why, is in bench/README.md. Served by Mercurius (mercurius-own.ts) and, to
// show what the engine alone costs, by Yoga (yoga-own.ts).
import { randomBytes } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import DataLoader from 'dataloader';
import pg from 'pg';

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) throw new Error('DATABASE_URL names the store to serve');

export const schema = `
  schema { query: Query mutation: Mutation }

  type Query {
    issue(number: Int!): Issue
    author(slug: String!): Author
    authors(first: Int = 20, orderBy: AuthorOrder = ARTICLE_COUNT_DESC): AuthorConnection!
  }
  type Mutation {
    subscribe(input: SubscribeInput!): SubscribePayload!
  }
  enum AuthorOrder { ARTICLE_COUNT_DESC }

  type Issue {
    number: Int!
    articles(first: Int = 20): ArticleConnection!
  }
  type Article {
    headline: String!
    publishedAt: String!
    authors: [Author!]!
    issue: Issue
  }
  type Author {
    name: String!
    slug: String!
    articleCount: Int!
    lastPublishedAt: String
    articles(first: Int = 20): ArticleConnection!
  }
  type ArticleConnection { edges: [ArticleEdge!]! }
  type ArticleEdge { node: Article! }
  type AuthorConnection { edges: [AuthorEdge!]! }
  type AuthorEdge { node: Author! }

  input SubscribeInput { email: String!, newsletter: String! }
  type SubscribePayload { subscription: NewsletterSubscription, userErrors: [UserError!]! }
  type NewsletterSubscription { status: SubscriptionStatus!, newsletter: Newsletter! }
  enum SubscriptionStatus { PENDING ACTIVE UNSUBSCRIBED }
  type Newsletter { name: String! }
  type UserError { field: [String!], code: String!, message: String! }
`;

type Row = Record<string, unknown>;
type Run = (sql: string, params?: unknown[]) => Promise<Row[]>;

interface Db {
  all: Run;
  /** `work` in one transaction; its statements go through the `Run` it is given. */
  transaction<T>(work: (run: Run) => Promise<T>): Promise<T>;
}

/** Statements sent, begin and commit included, for the runner's `masthead_store_queries_total`. */
let statements = 0;

/** Statements sent so far. */
export function statementsSent(): number {
  return statements;
}

function openSqlite(file: string): Db {
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  const cache = new Map<string, SqliteDatabase.Statement>();
  const run = (sql: string, params: unknown[] = []): Row[] => {
    statements++;
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    if (statement.reader) return statement.all(...params) as Row[];
    statement.run(...params);
    return [];
  };
  return {
    all: async (sql, params) => run(sql, params),
    // better-sqlite3 is synchronous: a sign-up's statements run to commit within one turn of the
    // event loop (its awaits wait on nothing), so no other request's statement comes between
    // them, and begin immediate ... commit is the whole of the locking (a test sends 40 at once).
    transaction: async (work) => {
      run('begin immediate');
      try {
        const result = await work(async (sql, params) => run(sql, params));
        run('commit');
        return result;
      } catch (error) {
        run('rollback');
        throw error;
      }
    },
  };
}

function openPostgres(url: string): Db {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  const query = async (client: pg.Pool | pg.PoolClient, sql: string, params: unknown[] = []) => {
    statements++;
    return (await client.query(numbered(sql), params)).rows as Row[];
  };
  return {
    all: (sql, params) => query(pool, sql, params),
    transaction: async (work) => {
      const client = await pool.connect();
      try {
        await query(client, 'begin');
        const result = await work((sql, params) => query(client, sql, params));
        await query(client, 'commit');
        return result;
      } catch (error) {
        await query(client, 'rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

const sqliteFile = /^(?:sqlite|file):(.*)$/.exec(DATABASE_URL)?.[1];
const db = sqliteFile ? openSqlite(sqliteFile) : openPostgres(DATABASE_URL);

const iso = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string | Date).toISOString());
const marks = (values: readonly unknown[]) => values.map(() => '?').join(', ');
const PUBLISHED = `articles.status = 'published' and articles.published_at <= ?`;

interface Article {
  id: number;
  headline: string;
  publishedAt: string;
  issueId: number | null;
}
interface Author {
  id: number;
  name: string;
  slug: string;
  /** Known already when the author came from the ranking. */
  articleCount?: number;
}
interface Issue {
  id: number;
  number: number;
}

const toArticle = (row: Row): Article => ({
  id: Number(row.id),
  headline: String(row.headline),
  publishedAt: iso(row.published_at) ?? '',
  issueId: row.issue_id === null ? null : Number(row.issue_id),
});
const toAuthor = (row: Row): Author => ({ id: Number(row.id), name: String(row.name), slug: String(row.slug) });

function groupBy<T>(rows: Row[], key: string, map: (row: Row) => T): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const row of rows) {
    const id = Number(row[key]);
    const group = groups.get(id) ?? [];
    group.push(map(row));
    groups.set(id, group);
  }
  return groups;
}

/**
 * A page of articles for each parent, newest or oldest first: on SQLite a statement per parent
 * (an in-process call, so there is no round trip to save); on PostgreSQL one statement, a
 * lateral join over the parents' ids. `page` is the statement for one parent, `?` its id.
 */
async function pagesPerParent(ids: readonly number[], page: string, params: unknown[]): Promise<Map<number, Article[]>> {
  if (sqliteFile) {
    const pages = await Promise.all(ids.map(async (id) => [id, (await db.all(page, [id, ...params])).map(toArticle)] as const));
    return new Map(pages);
  }
  const rows = await db.all(
    `select parents.parent_id, page.* from unnest(?::int[]) as parents (parent_id) cross join lateral (${page.replace('?', 'parents.parent_id')}) as page`,
    [ids, ...params],
  );
  return groupBy(rows, 'parent_id', toArticle);
}

/** The request's loaders: one DataLoader per per-parent field (and page size), as DataLoader's docs advise. */
function createLoaders(now: string) {
  const pages = new Map<string, DataLoader<number, Article[]>>();
  const paged = (name: string, first: number, load: (ids: readonly number[], first: number) => Promise<Map<number, Article[]>>) => {
    const key = `${name}:${first}`;
    let loader = pages.get(key);
    if (!loader) {
      loader = new DataLoader(async (ids: readonly number[]) => {
        const found = await load(ids, first);
        return ids.map((id) => found.get(id) ?? []);
      });
      pages.set(key, loader);
    }
    return loader;
  };
  return {
    issueArticles: (first: number) =>
      paged('issue', first, (ids, limit) =>
        pagesPerParent(
          ids,
          `select articles.id, articles.headline, articles.published_at, articles.issue_id from articles
           where articles.issue_id = ? and ${PUBLISHED} order by articles.published_at, articles.id limit ?`,
          [now, limit],
        ),
      ),
    authorArticles: (first: number) =>
      paged('author', first, (ids, limit) =>
        pagesPerParent(
          ids,
          `select articles.id, articles.headline, articles.published_at, articles.issue_id
           from bylines join articles on articles.id = bylines.article_id
           where bylines.author_id = ? and ${PUBLISHED} order by articles.published_at desc, articles.id desc limit ?`,
          [now, limit],
        ),
      ),
    bylines: new DataLoader(async (articleIds: readonly number[]) => {
      const rows = await db.all(
        `select bylines.article_id, authors.id, authors.name, authors.slug
         from bylines join authors on authors.id = bylines.author_id
         where bylines.article_id in (${marks(articleIds)}) order by bylines.article_id, bylines.position`,
        [...articleIds],
      );
      const found = groupBy(rows, 'article_id', toAuthor);
      return articleIds.map((id) => found.get(id) ?? []);
    }),
    issues: new DataLoader(async (ids: readonly number[]) => {
      const rows = await db.all(`select id, number from issues where id in (${marks(ids)})`, [...ids]);
      const found = new Map(rows.map((row) => [Number(row.id), { id: Number(row.id), number: Number(row.number) }]));
      return ids.map((id) => found.get(id) ?? null);
    }),
    authorStats: new DataLoader(async (authorIds: readonly number[]) => {
      const rows = await db.all(
        `select bylines.author_id, count(*) as article_count, max(articles.published_at) as last_published_at
         from bylines join articles on articles.id = bylines.article_id
         where bylines.author_id in (${marks(authorIds)}) and ${PUBLISHED}
         group by bylines.author_id`,
        [...authorIds, now],
      );
      const found = new Map(
        rows.map((row) => [Number(row.author_id), { articleCount: Number(row.article_count), lastPublishedAt: iso(row.last_published_at) }]),
      );
      return authorIds.map((id) => found.get(id) ?? { articleCount: 0, lastPublishedAt: null });
    }),
  };
}

// A type, not an interface: Yoga's context must be assignable to Record<string, unknown>.
export type Context = {
  now: string;
  loaders: ReturnType<typeof createLoaders>;
  client: { address: string; userAgent: string | null };
};

const connection = <T>(nodes: readonly T[]) => ({ edges: nodes.map((node) => ({ node })) });

async function subscribe(input: { email: string; newsletter: string }, ctx: Context) {
  const email = input.email.trim().toLowerCase();
  const [newsletter] = await db.all('select id, name from newsletters where slug = ?', [input.newsletter.trim()]);
  if (!newsletter || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) {
    return { subscription: null, userErrors: [{ field: ['input'], code: 'INPUT_INVALID', message: 'Check the address and the newsletter.' }] };
  }
  const status = await db.transaction(async (run) => {
    await run(
      `insert into subscriptions (public_id, newsletter_id, email, status, created_at) values (?, ?, ?, 'pending', ?)
       on conflict (newsletter_id, email) do nothing`,
      [randomBytes(16).toString('hex'), newsletter.id, email, ctx.now],
    );
    const [subscription] = await run(`select id, status from subscriptions where newsletter_id = ? and email = ?${sqliteFile ? '' : ' for update'}`, [
      newsletter.id,
      email,
    ]);
    if (!subscription) throw new Error('the sign-up vanished');
    let current = String(subscription.status);
    if (current === 'unsubscribed') {
      await run(`update subscriptions set status = 'pending', confirmed_at = null where id = ?`, [subscription.id]);
      current = 'pending';
    }
    const waiting = await run(`select 1 from outbox where subscription_id = ? and status = 'pending'`, [subscription.id]);
    if (waiting.length === 0) {
      await run(`insert into outbox (subscription_id, kind, created_at, next_attempt_at) values (?, ?, ?, ?)`, [
        subscription.id,
        current === 'active' ? 'already-subscribed' : 'confirm',
        ctx.now,
        ctx.now,
      ]);
    }
    await run(`insert into consents (subscription_id, recorded_at, source, wording_version, client_address, user_agent) values (?, ?, 'api', '1', ?, ?)`, [
      subscription.id,
      ctx.now,
      ctx.client.address,
      ctx.client.userAgent?.slice(0, 500) ?? null,
    ]);
    return current;
  });
  return { subscription: { status: status.toUpperCase(), newsletter: { name: newsletter.name } }, userErrors: [] };
}

export const resolvers = {
  Query: {
    issue: async (_: unknown, args: { number: number }) => {
      const [row] = await db.all('select id, number from issues where number = ?', [args.number]);
      return row ? { id: Number(row.id), number: Number(row.number) } : null;
    },
    author: async (_: unknown, args: { slug: string }) => {
      const [row] = await db.all('select id, name, slug from authors where slug = ?', [args.slug]);
      return row ? toAuthor(row) : null;
    },
    authors: async (_: unknown, args: { first: number }, ctx: Context) => {
      const rows = await db.all(
        `select authors.id, authors.name, authors.slug, count(*) as article_count
         from authors join bylines on bylines.author_id = authors.id join articles on articles.id = bylines.article_id
         where ${PUBLISHED}
         group by authors.id, authors.name, authors.slug
         order by article_count desc, authors.id asc limit ?`,
        [ctx.now, Math.min(Math.max(args.first, 0), 100)],
      );
      return connection(rows.map((row): Author => ({ ...toAuthor(row), articleCount: Number(row.article_count) })));
    },
  },
  Mutation: {
    subscribe: (_: unknown, args: { input: { email: string; newsletter: string } }, ctx: Context) => subscribe(args.input, ctx),
  },
  Issue: {
    articles: async (issue: Issue, args: { first: number }, ctx: Context) => connection(await ctx.loaders.issueArticles(args.first).load(issue.id)),
  },
  Article: {
    authors: (article: Article, _: unknown, ctx: Context) => ctx.loaders.bylines.load(article.id),
    issue: (article: Article, _: unknown, ctx: Context) => (article.issueId === null ? null : ctx.loaders.issues.load(article.issueId)),
  },
  Author: {
    articleCount: async (author: Author, _: unknown, ctx: Context) => author.articleCount ?? (await ctx.loaders.authorStats.load(author.id)).articleCount,
    lastPublishedAt: async (author: Author, _: unknown, ctx: Context) => (await ctx.loaders.authorStats.load(author.id)).lastPublishedAt,
    articles: async (author: Author, args: { first: number }, ctx: Context) => connection(await ctx.loaders.authorArticles(args.first).load(author.id)),
  },
};

/** A request's context: its time, its loaders (DataLoader, per request) and the client. */
export function createRequestContext(client: Context['client']): Context {
  const now = new Date().toISOString();
  return { now, loaders: createLoaders(now), client };
}
