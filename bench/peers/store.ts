// The peers' access to the store: the statements that Masthead's repositories send for the
// benchmark's workloads (the same tables, conditions, orders, limits and columns, one statement
// per batch), written out by hand and run as prepared statements on the bare driver. The
// ceiling, Mercurius and Apollo all read through this, so they differ only above it.
import { randomBytes } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import type { Selectable } from 'kysely';
import pg from 'pg';
import type { ArticleTable } from '../../src/store/database.ts';
import { toIso, toIsoOrNull } from '../../src/store/model.ts';

/** An article as Masthead's page statements select it, its time as an ISO string, with the parent it was paged for. */
export type ArticleRow = Omit<Selectable<ArticleTable>, 'created_at' | 'updated_at' | 'published_at'> & {
  published_at: string;
  parent_id: number;
};
export interface IssueRow {
  id: number;
  number: number;
  published_on: string | null;
}
export interface AuthorRow {
  id: number;
  slug: string;
  name: string;
}
export interface AuthorStatsRow {
  articleCount: number;
  firstPublishedAt: string | null;
  lastPublishedAt: string | null;
}
/** An author of the ranking, with their counts as the ranking read them (Masthead's list hands them to its stats loader). */
export interface RankedAuthorRow extends AuthorRow {
  stats: AuthorStatsRow;
}
export interface NewsletterRow {
  id: number;
  slug: string;
  name: string;
  description: string | null;
}
export interface SignUpRequest {
  newsletterId: number;
  email: string;
  clientAddress: string | null;
  userAgent: string | null;
  now: string;
}

type Row = Record<string, unknown>;

interface Driver {
  all(sql: string, params: readonly unknown[]): Promise<Row[]>;
  /** Runs `work` in one transaction; the statements it sends go through `query`. */
  transaction<T>(work: (query: (sql: string, params: readonly unknown[]) => Promise<Row[]>) => Promise<T>): Promise<T>;
  /** Whether a WITH may hold inserts (PostgreSQL), as Masthead's recordSignUp sends them. */
  readonly writesInWith: boolean;
  /** Pages per parent as one lateral join over the parents' ids (PostgreSQL), not a UNION ALL of a branch each. */
  readonly lateralPages: boolean;
  close(): Promise<void>;
}

const marks = (count: number) => Array.from({ length: count }, () => '?').join(', ');

function sqliteDriver(file: string): Driver {
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  const prepared = new Map<string, SqliteDatabase.Statement>();
  const statement = (sql: string) => {
    let found = prepared.get(sql);
    if (!found) {
      found = db.prepare(sql);
      prepared.set(sql, found);
    }
    return found;
  };
  const run = (sql: string, params: readonly unknown[]): Row[] => {
    const prepared = statement(sql);
    if (prepared.reader) return prepared.all(...params) as Row[];
    prepared.run(...params);
    return [];
  };
  // One connection: transactions must not interleave, so each waits for the one before.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    all: async (sql, params) => run(sql, params),
    transaction: <T>(work: (query: (sql: string, params: readonly unknown[]) => Promise<Row[]>) => Promise<T>) => {
      const next = queue.then(async () => {
        run('begin', []);
        try {
          const result = await work(async (sql, params) => run(sql, params));
          run('commit', []);
          return result;
        } catch (error) {
          run('rollback', []);
          throw error;
        }
      });
      queue = next.catch(() => {});
      return next;
    },
    writesInWith: false,
    lateralPages: false,
    close: async () => {
      db.close();
    },
  };
}

function postgresDriver(url: string): Driver {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {});
  const texts = new Map<string, { name: string; text: string }>();
  const named = (sql: string) => {
    let found = texts.get(sql);
    if (!found) {
      let index = 0;
      found = { name: `peer_${texts.size}`, text: sql.replace(/\?/g, () => `$${++index}`) };
      texts.set(sql, found);
    }
    return found;
  };
  const query = async (client: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[]) => {
    const { name, text } = named(sql);
    const result = await client.query({ name, text, values: params as unknown[] });
    return result.rows as Row[];
  };
  return {
    all: (sql, params) => query(pool, sql, params),
    transaction: async (work) => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await work((sql, params) => query(client, sql, params));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    writesInWith: true,
    lateralPages: true,
    close: () => pool.end(),
  };
}

const ARTICLE_COLUMNS = `articles.id, articles.slug, articles.headline, articles.standfirst,
  articles.word_count, articles.issue_id, articles.published_at, articles.status, articles.promoted_newsletter_id`;
const PUBLIC_ARTICLE = `(articles.status = 'published' and articles.published_at <= ?)`;
const PUBLIC_BYLINE = `(bylines.status = 'published' and bylines.published_at <= ?)`;
const PUBLIC_ISSUE = `exists (select 1 as one from articles where articles.issue_id = issues.id and ${PUBLIC_ARTICLE})`;

/** Pages per parent, each in its own order (a UNION ALL promises none across branches). */
function groupPages(rows: Row[], direction: 1 | -1): Map<number, ArticleRow[]> {
  const pages = new Map<number, ArticleRow[]>();
  for (const row of rows) {
    const article = { ...row, published_at: toIso(row.published_at as Date | string), parent_id: Number(row.parent_id) } as ArticleRow;
    const page = pages.get(article.parent_id) ?? [];
    page.push(article);
    pages.set(article.parent_id, page);
  }
  for (const page of pages.values()) {
    page.sort((a, b) => direction * (a.published_at < b.published_at ? -1 : a.published_at > b.published_at ? 1 : a.id - b.id));
  }
  return pages;
}

const toStats = (row: Row): AuthorStatsRow => ({
  articleCount: Number(row.article_count),
  firstPublishedAt: toIsoOrNull(row.first_published_at as Date | string | null),
  lastPublishedAt: toIsoOrNull(row.last_published_at as Date | string | null),
});

/** The store as the peers see it; `statements` counts what was sent, begin and commit included. */
export class PeerStore {
  statements = 0;
  readonly #driver: Driver;

  constructor(databaseUrl: string) {
    const sqlite = /^(?:sqlite|file):(.*)$/.exec(databaseUrl);
    this.#driver = sqlite?.[1] ? sqliteDriver(sqlite[1]) : postgresDriver(databaseUrl);
  }

  #all(sql: string, params: readonly unknown[]): Promise<Row[]> {
    this.statements++;
    return this.#driver.all(sql, params);
  }

  close(): Promise<void> {
    return this.#driver.close();
  }

  async issuesByNumbers(numbers: readonly number[], now: string): Promise<IssueRow[]> {
    if (numbers.length === 0) return [];
    return (await this.#all(
      `select issues.id, issues.number, issues.published_on from issues where issues.number in (${marks(numbers.length)}) and ${PUBLIC_ISSUE}`,
      [...numbers, now],
    )) as unknown as IssueRow[];
  }

  async issuesByIds(ids: readonly number[], now: string): Promise<IssueRow[]> {
    if (ids.length === 0) return [];
    return (await this.#all(`select issues.id, issues.number, issues.published_on from issues where issues.id in (${marks(ids.length)}) and ${PUBLIC_ISSUE}`, [
      ...ids,
      now,
    ])) as unknown as IssueRow[];
  }

  /**
   * One page per parent in one statement, as Masthead's pagePerParent sends it: on PostgreSQL a
   * lateral join over the parents' ids as one array, elsewhere a UNION ALL of a branch per parent.
   * `page` is the statement for one parent, `?` its id.
   */
  async #pagesPerParent(parentIds: readonly number[], page: string, params: readonly unknown[], direction: 1 | -1): Promise<Map<number, ArticleRow[]>> {
    const ids = [...new Set(parentIds)];
    if (ids.length === 0) return new Map();
    const rows = this.#driver.lateralPages
      ? await this.#all(`select page.* from unnest(?::int[]) as parents(parent_id) cross join lateral (${page.replace('?', 'parents.parent_id')}) as page`, [
          ids,
          ...params,
        ])
      : await this.#all(
          ids.map((_, index) => `select * from (${page}) as page${index}`).join(' union all '),
          ids.flatMap((id) => [id, ...params]),
        );
    return groupPages(rows, direction);
  }

  /** One page of each issue's running order, in one statement. */
  issueArticles(issueIds: readonly number[], limit: number, now: string): Promise<Map<number, ArticleRow[]>> {
    return this.#pagesPerParent(
      issueIds,
      `select ${ARTICLE_COLUMNS}, articles.issue_id as parent_id from articles where articles.issue_id = ? and ${PUBLIC_ARTICLE} order by articles.published_at asc, articles.id asc limit ?`,
      [now, limit],
      1,
    );
  }

  /** One page of each author's pieces, newest first, in one statement. */
  authorArticles(authorIds: readonly number[], limit: number, now: string): Promise<Map<number, ArticleRow[]>> {
    return this.#pagesPerParent(
      authorIds,
      `select ${ARTICLE_COLUMNS}, bylines.author_id as parent_id from bylines inner join articles on articles.id = bylines.article_id where bylines.author_id = ? and ${PUBLIC_BYLINE} order by bylines.published_at desc, bylines.article_id desc limit ?`,
      [now, limit],
      -1,
    );
  }

  /** Each article's authors in byline order. */
  async bylines(articleIds: readonly number[]): Promise<Map<number, AuthorRow[]>> {
    const bylines = new Map<number, AuthorRow[]>();
    if (articleIds.length === 0) return bylines;
    const rows = await this.#all(
      `select bylines.article_id, authors.id, authors.slug, authors.name from bylines inner join authors on authors.id = bylines.author_id where bylines.article_id in (${marks(articleIds.length)}) order by bylines.article_id, bylines.position`,
      articleIds,
    );
    for (const row of rows) {
      const articleId = Number(row.article_id);
      const authors = bylines.get(articleId) ?? [];
      authors.push({ id: Number(row.id), slug: String(row.slug), name: String(row.name) });
      bylines.set(articleId, authors);
    }
    return bylines;
  }

  async authorsBySlugs(slugs: readonly string[], now: string): Promise<AuthorRow[]> {
    if (slugs.length === 0) return [];
    return (await this.#all(
      `select authors.id, authors.slug, authors.name from authors where authors.slug in (${marks(slugs.length)}) and (authors.article_count > ? and authors.first_published_at <= ?)`,
      [...slugs, 0, now],
    )) as unknown as AuthorRow[];
  }

  async authorStats(authorIds: readonly number[], now: string): Promise<Map<number, AuthorStatsRow>> {
    if (authorIds.length === 0) return new Map();
    const rows = await this.#all(
      `select bylines.author_id, count(*) as article_count, min(bylines.published_at) as first_published_at, max(bylines.published_at) as last_published_at from bylines where ${PUBLIC_BYLINE} and bylines.author_id in (${marks(authorIds.length)}) group by bylines.author_id`,
      [now, ...authorIds],
    );
    return new Map(rows.map((row) => [Number(row.author_id), toStats(row)]));
  }

  /**
   * Authors by their kept counts, most first. Masthead orders from the bylines instead while a
   * published piece waits for its time; the benchmark's corpus has none, which this checks.
   */
  async authorsByArticleCount(limit: number, now: string): Promise<RankedAuthorRow[]> {
    const scheduled = await this.#all(`select id from articles where status = ? and published_at > ? limit ?`, ['published', now, 1]);
    if (scheduled.length > 0) throw new Error('the peers do not order authors while pieces are scheduled: reseed the store');
    const rows = await this.#all(
      `select authors.id, authors.slug, authors.name, authors.article_count, authors.first_published_at, authors.last_published_at from authors where authors.article_count > ? order by authors.article_count desc, authors.id asc limit ?`,
      [0, limit],
    );
    return rows.map((row) => ({ id: Number(row.id), slug: String(row.slug), name: String(row.name), stats: toStats(row) }));
  }

  async newsletterBySlug(slug: string): Promise<NewsletterRow | null> {
    const [row] = await this.#all(
      `select newsletters.id, newsletters.slug, newsletters.name, newsletters.description from newsletters where newsletters.slug = ?`,
      [slug],
    );
    return (row as NewsletterRow | undefined) ?? null;
  }

  /**
   * Masthead's sign-up transaction, statement for statement: the sign-up created or found and
   * locked by one upsert that returns its row, then a consent record and a message queued unless
   * one waits already (on PostgreSQL both in one statement, SQLite allowing no writes in a WITH).
   */
  async signUp(request: SignUpRequest): Promise<void> {
    const { newsletterId, email, now } = request;
    this.statements += 2;
    await this.#driver.transaction(async (query) => {
      const send = (sql: string, params: readonly unknown[]) => {
        this.statements++;
        return query(sql, params);
      };
      const [subscription] = await send(
        `insert into subscriptions (public_id, newsletter_id, email, status, created_at) values (?, ?, ?, ?, ?)
         on conflict (newsletter_id, email) do update set status = subscriptions.status returning *`,
        [randomBytes(16).toString('hex'), newsletterId, email, 'pending', now],
      );
      if (!subscription) throw new Error(`subscription of newsletter ${newsletterId} vanished while signing up`);
      let kind = 'confirm';
      if (subscription.status === 'unsubscribed') {
        await send(`update subscriptions set status = ?, confirmed_at = ? where id = ? returning *`, ['pending', null, subscription.id]);
      } else if (subscription.status === 'active') {
        kind = 'already-subscribed';
      }
      const consent = `insert into consents (subscription_id, recorded_at, source, wording_version, client_address, user_agent) values (?, ?, ?, ?, ?, ?)`;
      const consentValues = [subscription.id, now, 'api', '1', request.clientAddress, request.userAgent?.slice(0, 500) ?? null];
      const message = `insert into outbox (subscription_id, kind, created_at, next_attempt_at)
         select ?, ?, ?, ? where not exists (select id from outbox where subscription_id = ? and status = 'pending') returning id`;
      const messageValues = [subscription.id, kind, now, now, subscription.id];
      if (this.#driver.writesInWith) {
        await send(`with consent as (${consent}), queued as (${message}) select id from queued`, [...consentValues, ...messageValues]);
      } else {
        await send(consent, consentValues);
        await send(message, messageValues);
      }
    });
  }
}
