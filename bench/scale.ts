// Scale benchmark: seeds a large archive into each store and measures the canonical queries
// through the real Yoga instance, side by side, in one run.
//
//   npm run bench:scale                           # 100,000 articles (a few minutes)
//   BENCH_ARTICLES=1000000 npm run bench:scale    # the 1M archive of the production issue
//   BENCH_STORES=sqlite npm run bench:scale       # one store only
//
// PostgreSQL is reached at MASTHEAD_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
// the benchmark creates and drops its own database, as the tests do. Results go to stdout as a markdown table.
import { performance } from 'node:perf_hooks';
import { type Config, loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { Metrics } from '../src/metrics.ts';
import { seedCorpus } from '../src/seed/seed.ts';
import { encodeCursor } from '../src/schema/pagination.ts';
import { NEWEST_FIRST } from '../src/schema/article.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { createMastheadYoga } from '../src/yoga.ts';
import { createThrowawayStore, type TestDialect } from '../tests/support/store.ts';

const articles = Number(process.env.BENCH_ARTICLES ?? 100_000);
const size = {
  articles,
  authors: Math.max(60, Math.round(articles / 50)),
  issues: Math.max(100, Math.round(articles / 333)),
  seed: 1,
};
const stores = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function benchStore(dialect: string) {
  const { location, drop } = await createThrowawayStore(dialect as TestDialect);
  const metrics = new Metrics();
  const store: Store = openStore(location, metrics);
  try {
    await migrateToLatest(store);
    const started = performance.now();
    let lastTenth = -1;
    await seedCorpus(store, size, (done, total) => {
      const tenth = Math.floor((done / total) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${dialect}: seeded ${done}/${total}\n`);
      }
    });
    const seedSeconds = (performance.now() - started) / 1000;

    const config: Config = { ...loadConfig({}), store: location, demoContent: false, statementTimeoutMs: 60_000 };
    const yoga = createMastheadYoga({ store, config, metrics, logger: createLogger({ level: 'error' }) });
    const run = async (query: string, variables: Record<string, unknown> = {}) => {
      const response = await yoga.fetch('http://bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
    };

    const issueNumber = 1000 + Math.round(size.issues / 2);
    const prolific = await store.db.selectFrom('authors').select('slug').orderBy('article_count', 'desc').limit(1).executeTakeFirstOrThrow();
    const deep = await store.db
      .selectFrom('articles')
      .select(['id', 'published_at'])
      .where('status', '=', 'published')
      .orderBy('published_at', 'desc')
      .orderBy('id', 'desc')
      .offset(20 * 9_999 - 1)
      .limit(1)
      .executeTakeFirst();
    const deepCursor = deep ? encodeCursor(NEWEST_FIRST, [new Date(deep.published_at).toISOString(), deep.id]) : null;

    const workloads: Array<[string, string, Record<string, unknown>]> = [
      [
        'issue page of 50 with authors',
        'query ($n: Int!) { issue(number: $n) { articleCount articles(first: 50) { edges { node { headline publishedAt authors { name slug } } } } } }',
        { n: issueNumber },
      ],
      [
        "prolific author's latest 20 with counts",
        'query ($s: String!) { author(slug: $s) { articleCount firstPublishedAt lastPublishedAt articles(first: 20) { totalCount edges { node { headline issue { number } } } } } }',
        { s: prolific.slug },
      ],
      [
        'authors by output, 20 with 3 latest each',
        '{ authors(first: 20, orderBy: ARTICLE_COUNT_DESC) { totalCount edges { node { name articleCount articles(first: 3) { edges { node { headline } } } } } } }',
        {},
      ],
      [
        'search (two words)',
        'query ($q: String!) { search(query: $q, first: 10) { totalCount edges { node { headline } } } }',
        { q: 'pensioners deportations' },
      ],
      ['articles page 1 (20, with totalCount)', '{ articles(first: 20) { totalCount edges { node { headline } } } }', {}],
      [
        'articles page 10,000 (20, with totalCount)',
        'query ($a: String) { articles(first: 20, after: $a) { totalCount edges { node { headline } } } }',
        { a: deepCursor },
      ],
    ];
    const results: Array<{ name: string; medianMs: number; statements: number }> = [];
    for (const [, query, variables] of workloads) for (let i = 0; i < 5; i++) await run(query, variables);
    const samples = workloads.map(() => [] as number[]);
    // Interleaved: each round runs every workload once, so drift hits them all alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [index, [, query, variables]] of workloads.entries()) {
        const t0 = performance.now();
        await run(query, variables);
        samples[index]?.push(performance.now() - t0);
      }
    }
    for (const [index, [name, query, variables]] of workloads.entries()) {
      const before = metrics.storeQueries.get();
      await run(query, variables);
      results.push({ name, medianMs: median(samples[index] ?? []), statements: metrics.storeQueries.get() - before });
    }
    return { dialect, seedSeconds, results };
  } finally {
    await store.close();
    await drop();
  }
}

const reports = [];
for (const dialect of stores) reports.push(await benchStore(dialect));

console.log(
  `\n## Scale benchmark: ${size.articles.toLocaleString('en')} articles, ${size.authors.toLocaleString('en')} authors, ${size.issues.toLocaleString('en')} issues\n`,
);
console.log(`Rounds: ${ROUNDS} interleaved after 5 warm-ups; in-process through yoga.fetch; medians in ms.\n`);
console.log(`| workload | ${reports.map((r) => `${r.dialect} ms | ${r.dialect} statements`).join(' | ')} |`);
console.log(`| --- | ${reports.map(() => '---: | ---:').join(' | ')} |`);
for (const [index, { name }] of (reports[0]?.results ?? []).entries()) {
  console.log(`| ${name} | ${reports.map((r) => `${r.results[index]?.medianMs.toFixed(2)} | ${r.results[index]?.statements}`).join(' | ')} |`);
}
for (const report of reports) {
  const [page1, page10000] = [report.results[4]?.medianMs ?? 0, report.results[5]?.medianMs ?? 0];
  console.log(`\n${report.dialect}: seed ${report.seedSeconds.toFixed(1)} s; page 10,000 / page 1 = ${(page10000 / page1).toFixed(2)}`);
}
