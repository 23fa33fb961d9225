import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this file imports nothing from the app. Both dialects are spelled out here.
//
// The change feed: every change to what the public sees, recorded once, in order, in the
// writer's own transaction, whoever writes (the server, `masthead import` in another process, a
// SQL prompt), by triggers.
//
// - `feed_announced` holds what the public was last told of each public piece (its issue and
//   byline); `feed_pending` the pieces a transaction touched. Each write to `articles` or
//   `bylines` marks its piece pending; a flush compares each pending piece with what was
//   announced and records `article.published`, `article.updated` or `article.withdrawn` (and
//   `issue.published` when an issue gets its first public piece), then forgets the marks. A flush
//   that finds nothing new records nothing, so a piece touched by many statements, or flushed
//   again, is recorded once.
// - When is the flush? PostgreSQL: at commit (a deferred constraint trigger), under a lock on
//   `feed_clock` held to the commit, so sequence order is commit order. SQLite has no deferred
//   triggers: a writer that sets `feed_clock.deferring = 1` at the start of its transaction and
//   back to 0 at its end gets one flush there; any other write flushes after each row.
// - Public is status 'published' and published_at at or before the flush's clock (or the
//   horizon, `feed_clock.announced_until`, if that is later). A scheduled piece's time passes
//   with no write: an announcer in each server advances the horizon to its clock, under the same
//   lock (one instance wins each step), marking pending the pieces whose time fell in (old, new]:
//   announced once, at its time, also when its time passed while no server ran.
// - Every feed entry moves the content version (the response cache's key), and on PostgreSQL is
//   announced on the channel masthead_feed when the writer commits.

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

const CONTENT_TABLES = ['articles', 'bylines'] as const;

export async function up(db: Db): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp = pg ? sql`timestamptz` : sql`text`;
  const now = pg ? sql`now()` : sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

  await sql`
    create table change_feed (
      seq ${pg ? sql`bigint generated always as identity primary key` : sql`integer primary key autoincrement`},
      occurred_at ${timestamp} not null default ${now},
      kind text not null check (kind in ('article.published', 'article.updated', 'article.withdrawn', 'issue.published')),
      article_id integer,
      issue_id_before integer,
      issue_id_after integer,
      author_ids_before text not null,
      author_ids_after text not null
    )`.execute(db);
  await sql`create index change_feed_occurred_idx on change_feed (occurred_at)`.execute(db);

  await sql`
    create table feed_announced (
      article_id integer primary key,
      issue_id integer,
      author_ids text not null
    )`.execute(db);
  await sql`create index feed_announced_issue_idx on feed_announced (issue_id)`.execute(db);

  await sql`
    create table feed_pending (
      article_id integer primary key,
      changed ${pg ? sql`boolean` : sql`integer`} not null
    )`.execute(db);

  await sql`
    create table feed_clock (
      id integer primary key check (id = 1),
      announced_until ${timestamp} not null,
      deferring integer not null default 0
    )`.execute(db);
  await sql`insert into feed_clock (id, announced_until) values (1, ${now})`.execute(db);

  // Public at the flush: a time at or before the clock, or before the horizon (which an
  // announcer on a clock ahead of the store's may have moved past the store's clock).
  const clock = pg ? 'greatest(h.announced_until, clock_timestamp())' : "max(h.announced_until, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))";
  const isPublic = (a: string) => sql.raw(`(${a}.status = 'published' and ${a}.published_at <= ${clock})`);
  const authors = (a: string) =>
    pg
      ? sql.raw(`coalesce((select json_agg(b.author_id order by b.position)::text from bylines b where b.article_id = ${a}.id), '[]')`)
      : // Aggregated from an ordered subquery, not `json_group_array(… order by …)`: that form needs
        // SQLite 3.44, and an older sqlite3 shell (Debian 12 has 3.40) could not open the file at all.
        sql.raw(`(select json_group_array(author_id) from (select b.author_id from bylines b where b.article_id = ${a}.id order by b.position))`);
  const horizon = sql.raw('(select announced_until from feed_clock where id = 1) h');
  const columns = sql.raw('(occurred_at, kind, article_id, issue_id_before, issue_id_after, author_ids_before, author_ids_after)');

  // The flush, as statements over feed_pending (the same on both dialects but for spelling).
  const flush = [
    sql`
      insert into change_feed ${columns}
      select ${now}, 'article.withdrawn', f.article_id, f.issue_id, a.issue_id, f.author_ids, ${authors('a')}
      from ${horizon} cross join feed_pending p
      join feed_announced f on f.article_id = p.article_id
      left join articles a on a.id = p.article_id
      where a.id is null or not ${isPublic('a')}
      order by p.article_id`,
    sql`
      insert into change_feed ${columns}
      select ${now}, 'article.updated', a.id, f.issue_id, a.issue_id, f.author_ids, ${authors('a')}
      from ${horizon} cross join feed_pending p
      join feed_announced f on f.article_id = p.article_id
      join articles a on a.id = p.article_id
      where ${isPublic('a')}
        and (p.changed ${pg ? sql`` : sql`= 1`} or f.issue_id is distinct from a.issue_id or f.author_ids <> ${authors('a')})
      order by a.id`,
    sql`
      insert into change_feed ${columns}
      select ${now}, 'article.published', a.id, null, a.issue_id, '[]', ${authors('a')}
      from ${horizon} cross join feed_pending p
      join articles a on a.id = p.article_id
      where ${isPublic('a')} and not exists (select 1 from feed_announced f where f.article_id = a.id)
      order by a.published_at, a.id`,
    sql`
      insert into change_feed ${columns}
      select ${now}, 'issue.published', null, null, i.issue_id, '[]', '[]'
      from (
        select distinct a.issue_id from ${horizon} cross join feed_pending p
        join articles a on a.id = p.article_id
        where ${isPublic('a')} and a.issue_id is not null
      ) i
      where not exists (select 1 from feed_announced f where f.issue_id = i.issue_id)
      order by i.issue_id`,
    sql`
      delete from feed_announced where article_id in (
        select p.article_id from ${horizon} cross join feed_pending p
        left join articles a on a.id = p.article_id
        where a.id is null or not ${isPublic('a')}
      )`,
    sql`
      insert into feed_announced (article_id, issue_id, author_ids)
      select a.id, a.issue_id, ${authors('a')}
      from ${horizon} cross join feed_pending p
      join articles a on a.id = p.article_id
      where ${isPublic('a')}
      on conflict (article_id) do update set issue_id = excluded.issue_id, author_ids = excluded.author_ids`,
    sql`delete from feed_pending`,
  ];

  // What the public can see now is announced already: the feed starts from here.
  await sql`
    insert into feed_announced (article_id, issue_id, author_ids)
    select a.id, a.issue_id, ${authors('a')} from ${horizon} cross join articles a where ${isPublic('a')}`.execute(db);

  // A write to an article's visible columns is an update of a public piece, even if its issue and byline stay.
  const visibleChange = (o: string, n: string) =>
    ['slug', 'headline', 'standfirst', 'body', 'issue_id', 'published_at', 'status', 'promoted_newsletter_id']
      .map((column) => `${o}.${column} is distinct from ${n}.${column}`)
      .join(' or ');

  if (pg) {
    await sql`
      create function masthead_feed_touch() returns trigger language plpgsql as $$
      begin
        if tg_table_name = 'articles' then
          insert into feed_pending (article_id, changed)
          values (
            case when tg_op = 'DELETE' then old.id else new.id end,
            tg_op = 'UPDATE' and (${sql.raw(visibleChange('old', 'new'))})
          )
          on conflict (article_id) do update set changed = feed_pending.changed or excluded.changed;
          if tg_op = 'UPDATE' and old.id <> new.id then
            insert into feed_pending (article_id, changed) values (old.id, false) on conflict (article_id) do nothing;
          end if;
        else
          if tg_op <> 'INSERT' then
            insert into feed_pending (article_id, changed) values (old.article_id, false) on conflict (article_id) do nothing;
          end if;
          if tg_op <> 'DELETE' then
            insert into feed_pending (article_id, changed) values (new.article_id, false) on conflict (article_id) do nothing;
          end if;
        end if;
        return null;
      end $$`.execute(db);
    for (const table of CONTENT_TABLES) {
      await sql`
        create trigger ${sql.raw(`${table}_feed`)} after insert or update or delete on ${sql.table(table)}
        for each row execute function masthead_feed_touch()`.execute(db);
    }
    const body = sql.join(flush, sql`;\n`);
    await sql`
      create function masthead_feed_flush() returns trigger language plpgsql as $$
      begin
        -- Held to the commit: flushes and the announcer take turns, so sequence order is commit order.
        perform 1 from feed_clock where id = 1 for update;
        if exists (select 1 from feed_pending) then
          ${body};
        end if;
        return null;
      end $$`.execute(db);
    await sql`
      create constraint trigger feed_pending_flush after insert on feed_pending
      deferrable initially deferred for each row execute function masthead_feed_flush()`.execute(db);
    await sql`
      create trigger change_feed_content_version after insert on change_feed
      for each statement execute function masthead_bump_content_version()`.execute(db);
    await sql`
      create function masthead_notify_feed() returns trigger language plpgsql as $$
      begin
        perform pg_notify('masthead_feed', '');
        return null;
      end $$`.execute(db);
    await sql`
      create trigger change_feed_notify after insert on change_feed
      for each statement execute function masthead_notify_feed()`.execute(db);
    return;
  }

  // SQLite: row triggers, each marking its piece pending.
  const touch = (id: string, changed: string, when = '') =>
    sql.raw(
      `insert into feed_pending (article_id, changed) select ${id}, (${changed}) where true ${when} ` +
        'on conflict (article_id) do update set changed = max(changed, excluded.changed);',
    );
  await sql`create trigger articles_insert_feed after insert on articles begin ${touch('new.id', '0')} end`.execute(db);
  await sql`create trigger articles_delete_feed after delete on articles begin ${touch('old.id', '0')} end`.execute(db);
  await sql`
    create trigger articles_update_feed after update on articles begin
      ${touch('new.id', visibleChange('old', 'new'))}
      ${touch('old.id', '0', 'and old.id <> new.id')}
    end`.execute(db);
  await sql`create trigger bylines_insert_feed after insert on bylines begin ${touch('new.article_id', '0')} end`.execute(db);
  await sql`create trigger bylines_delete_feed after delete on bylines begin ${touch('old.article_id', '0')} end`.execute(db);
  await sql`
    create trigger bylines_update_feed after update on bylines begin
      ${touch('new.article_id', '0')}
      ${touch('old.article_id', '0', 'and old.article_id <> new.article_id')}
    end`.execute(db);
  const body = sql.join(
    flush.map((statement) => sql`${statement};`),
    sql`\n`,
  );
  await sql`
    create trigger feed_pending_flush after insert on feed_pending
    when (select deferring from feed_clock where id = 1) = 0
    begin ${body} end`.execute(db);
  await sql`
    create trigger feed_clock_flush after update of deferring on feed_clock
    when old.deferring <> 0 and new.deferring = 0
    begin ${body} end`.execute(db);
  await sql`
    create trigger change_feed_content_version after insert on change_feed
    begin update totals set value = value + 1 where name = 'content_version'; end`.execute(db);
}

export async function down(db: Db): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (pg) {
    for (const table of CONTENT_TABLES) await sql`drop trigger if exists ${sql.raw(`${table}_feed`)} on ${sql.table(table)}`.execute(db);
  } else {
    for (const table of CONTENT_TABLES) {
      for (const event of ['insert', 'update', 'delete']) await sql`drop trigger if exists ${sql.raw(`${table}_${event}_feed`)}`.execute(db);
    }
  }
  for (const table of ['change_feed', 'feed_announced', 'feed_pending', 'feed_clock']) await sql`drop table if exists ${sql.table(table)}`.execute(db);
  if (pg) {
    await sql`drop function if exists masthead_feed_touch()`.execute(db);
    await sql`drop function if exists masthead_feed_flush()`.execute(db);
    await sql`drop function if exists masthead_notify_feed()`.execute(db);
  }
}
