// The benchmark (`npm run bench`): Masthead against the peers and the ceiling, on the demo corpus
// and a large one, on SQLite and PostgreSQL, in interleaved rounds. See bench/README.md for the knobs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { Metrics } from '../src/metrics.ts';
import { DEMO_CORPUS } from '../src/seed/demo-corpus.ts';
import { openStore } from '../src/store/store.ts';
import { createThrowawayStore, type TestDialect } from '../tests/support/store.ts';
import { cpuMs, fixedRate, peakRss, saturate, settle, type Target } from './load.ts';
import { type Machine, type MemoryResult, type Report, renderReport, type Section, type ServerResult, type WorkloadResult } from './report.ts';
import { canPin, pinSelf, type RunningServer, SERVERS, type ServerName, startServer, UNLIMITED } from './servers.ts';
import { canonical, pickSubjects } from './subjects.ts';
import { CACHED_QUERY, DEFAULT_WORKLOADS, requestBody, type Workload, WORKLOADS } from './workloads.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

function setting(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number of at least ${min}; got ${JSON.stringify(raw)}`);
  return value;
}

const list = <T extends string>(name: string, fallback: readonly T[], allowed: readonly T[]): T[] => {
  const raw = process.env[name];
  const values = (raw === undefined || raw === '' ? fallback.join(',') : raw).split(',').map((value) => value.trim()) as T[];
  const bad = values.find((value) => !allowed.includes(value));
  if (bad !== undefined) throw new Error(`${name} takes a comma-separated list of ${allowed.join(', ')}; got ${JSON.stringify(bad)}`);
  return values;
};
const onOff = (name: string, fallback: boolean): boolean => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === '1') return true;
  if (raw === 'off' || raw === '0') return false;
  throw new Error(`${name} must be on or off; got ${JSON.stringify(raw)}`);
};

type CorpusName = 'demo' | 'large';

const settings = {
  corpora: list<CorpusName>('BENCH_CORPORA', ['demo', 'large'], ['demo', 'large']),
  stores: list<TestDialect>('BENCH_STORES', ['sqlite', 'postgres'], ['sqlite', 'postgres']),
  /** The large corpus's articles. */
  articles: setting('BENCH_ARTICLES', 100_000, 1000),
  rounds: setting('BENCH_ROUNDS', 5),
  seconds: setting('BENCH_SECONDS', 3),
  warmupSeconds: setting('BENCH_WARMUP_SECONDS', 2),
  connections: setting('BENCH_CONNECTIONS', 20),
  latency: onOff('BENCH_LATENCY', false),
  output: process.env.BENCH_OUTPUT ?? path.join(ROOT, 'bench'),
};
const only = (name: string) => (process.env[name] ? new Set(process.env[name]!.split(',')) : null);
const onlyWorkloads = only('BENCH_WORKLOADS');
const onlyServers = only('BENCH_SERVERS');

const PEERS: ServerName[] = ['masthead', 'mercurius-own', 'mercurius', 'apollo', 'ceiling', 'naive', 'engine-floor', 'yoga-own'];

interface Plan {
  workload: Workload;
  /** The first is the one compared against the rest, and whose saturation sets the fixed rate. */
  servers: ServerName[];
  latency: boolean;
}

const plans: Plan[] = [
  ...WORKLOADS.filter((workload) => (onlyWorkloads ? onlyWorkloads.has(workload.name) : DEFAULT_WORKLOADS.includes(workload.name))).map((workload) => ({
    workload,
    servers: PEERS,
    latency: settings.latency,
  })),
  ...(!onlyWorkloads || onlyWorkloads.has(CACHED_QUERY.name)
    ? [{ workload: CACHED_QUERY, servers: ['masthead-cached', 'constant'] as ServerName[], latency: false }]
    : []),
].map((plan) => ({ ...plan, servers: plan.servers.filter((name, index) => index === 0 || !onlyServers || onlyServers.has(name)) }));

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const median = (values: readonly number[]) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function machine(): Machine {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    cores: os.availableParallelism(),
    cpu,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    loadBefore: os.loadavg(),
    loadAfter: [],
    commit: gitCommit(),
  };
}

/** The commit measured, marked when the working tree differs from it. */
function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT }).toString().trim() !== '';
    return dirty ? `${commit} with uncommitted changes` : commit;
  } catch {
    return 'unknown';
  }
}

function runCli(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/masthead.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`masthead ${args.join(' ')} exited with ${code}`))));
  });
}

async function post(server: RunningServer, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://${server.host}:${server.port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, text: await response.text() };
}

/** The corpus's size: the demo corpus as `masthead serve` loads it into an empty store, or the large one. */
function corpusSize(corpus: CorpusName): { articles: number; authors: number; issues: number; seed: number } {
  if (corpus === 'demo') return { ...DEMO_CORPUS };
  const articles = settings.articles;
  return { articles, authors: Math.max(60, Math.round(articles / 50)), issues: Math.max(100, Math.round(articles / 333)), seed: 1 };
}

/** One corpus on one store: seeded, served by every server, every workload in interleaved rounds. */
async function runSection(corpus: CorpusName, dialect: TestDialect, pinned: boolean): Promise<Section> {
  const started = performance.now();
  const throwaway = await createThrowawayStore(dialect);
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'masthead-bench-'));
  const servers = new Map<ServerName, RunningServer>();
  const readerStore = openStore(throwaway.location, new Metrics());
  try {
    const size = corpusSize(corpus);
    log(`== ${corpus} corpus on ${dialect}: masthead seed ${JSON.stringify(size)}`);
    const seedStarted = performance.now();
    await runCli(
      ['seed', '--articles', String(size.articles), '--authors', String(size.authors), '--issues', String(size.issues), '--seed', String(size.seed)],
      { DATABASE_URL: throwaway.databaseUrl },
    );
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    let storeVersion = '';
    if (dialect === 'postgres') {
      const client = new pg.Client({ connectionString: throwaway.databaseUrl });
      await client.connect();
      storeVersion = (await client.query('show server_version')).rows[0].server_version as string;
      await client.end();
    } else {
      const { rows } = await sql<{ version: string }>`select sqlite_version() as version`.execute(readerStore.db);
      storeVersion = rows[0]?.version ?? '';
    }
    const subjects = await pickSubjects(readerStore);
    log(`subjects: ${JSON.stringify(subjects)}`);
    const newsletterName = (await readerStore.db.selectFrom('newsletters').select('name').where('slug', '=', subjects.newsletterSlug).executeTakeFirstOrThrow())
      .name;

    const env = { DATABASE_URL: throwaway.databaseUrl, ...UNLIMITED, CONSTANT_BODY_FILE: path.join(runDir, 'constant-body.json') };
    const results: WorkloadResult[] = [];

    for (const plan of plans) {
      const { workload } = plan;
      log(`-- ${workload.title}`);
      for (const name of plan.servers) {
        if (servers.has(name)) continue;
        if (name === 'constant') {
          // The constant server answers with the cached query's body, as Masthead computes it.
          const lead = servers.get('masthead') ?? servers.get(plan.servers[0]!);
          if (!lead) throw new Error('the constant server needs a Masthead to take its body from');
          const { text } = await post(lead, requestBody(workload, subjects, 'constant', 0));
          writeFileSync(env.CONSTANT_BODY_FILE, text);
        }
        const server = await startServer(SERVERS[name], { env, core: pinned ? 1 : null, logDir: runDir });
        servers.set(name, server);
        log(`started ${name}: ${server.rssAfterStartMb.toFixed(0)} MiB resident`);
      }
      const running = plan.servers.map((name) => servers.get(name)!);
      const target = (server: RunningServer, tag: string): Target => ({
        host: server.host,
        port: server.port,
        unique: workload.unique,
        body: (n) => requestBody(workload, subjects, tag, n),
      });

      // The reference answer: the lead server's (for sign-ups, the one answer a valid sign-up gets).
      const mutation = workload.query.startsWith('mutation');
      const expected = mutation
        ? canonical(JSON.stringify({ data: { subscribe: { subscription: { status: 'PENDING', newsletter: { name: newsletterName } }, userErrors: [] } } }))
        : canonical((await post(running[0]!, requestBody(workload, subjects, 'reference', 0))).text);
      const emptyPage = workload.query.includes('edges') && !expected.includes('"edges":[{');
      if (!mutation && (expected.includes('"errors":') || !expected.startsWith('{"data":{') || emptyPage)) {
        throw new Error(`the reference answer for ${workload.name} is empty or failed: ${expected.slice(0, 300)}`);
      }

      const perServer = new Map<ServerName, ServerResult>(
        running.map((server) => [
          server.spec.name,
          { server: server.spec.name, title: server.spec.title, rounds: [], bodyMismatches: [], peakRssMb: 0, statementsPerRequest: Number.NaN },
        ]),
      );

      const verify = async (server: RunningServer, tag: string) => {
        const result = perServer.get(server.spec.name)!;
        let answer: { status: number; text: string };
        try {
          answer = await post(server, requestBody(workload, subjects, tag, 0));
        } catch (error) {
          // A server that stopped answering is a result, not a reason to lose the run.
          const exited = server.exitCode() === null ? 'still running' : `exited with ${server.exitCode()}`;
          result.bodyMismatches.push(`${tag}: no answer (${String((error as Error).cause ?? error)}; the process is ${exited})`);
          log(`!! ${server.spec.name} did not answer (${tag}); the process is ${exited}`);
          return;
        }
        const { status, text } = answer;
        let same = false;
        try {
          same = status === 200 && canonical(text) === expected;
        } catch {
          same = false;
        }
        if (!same) {
          result.bodyMismatches.push(`${tag}: HTTP ${status} ${text.slice(0, 300)}`);
          log(`!! ${server.spec.name} answered differently (${tag}): ${text.slice(0, 200)}`);
        }
        if (workload.name === 'subscribe-new') {
          // The writes, not only the answer: one sign-up, one consent record, one message queued.
          const email = (workload.variables(subjects, tag, 0) as { email: string }).email;
          const subscription = await readerStore.db.selectFrom('subscriptions').select('id').where('email', '=', email).executeTakeFirst();
          const count = async (table: 'consents' | 'outbox') =>
            Number(
              (
                await readerStore.db
                  .selectFrom(table)
                  .select((eb) => eb.fn.countAll<number>().as('n'))
                  .where('subscription_id', '=', subscription?.id ?? -1)
                  .executeTakeFirstOrThrow()
              ).n,
            );
          const writes = subscription ? [await count('consents'), await count('outbox')] : [0, 0];
          if (!subscription || writes[0] !== 1 || writes[1] !== 1) {
            result.bodyMismatches.push(
              `${tag}: writes for a new address were ${JSON.stringify({ subscription: !!subscription, consents: writes[0], outbox: writes[1] })}`,
            );
            log(`!! ${server.spec.name} did not write one sign-up, consent and message (${tag})`);
          }
        }
      };

      for (const server of running) {
        await verify(server, `${server.spec.name}-warmup`);
        await saturate(target(server, `${server.spec.name}-warmup`), settings.warmupSeconds, settings.connections);
        await settle(server.pid);
      }

      for (let round = 1; round <= settings.rounds; round++) {
        const saturation = new Map<ServerName, number>();
        for (const server of running) {
          const tag = `${server.spec.name}-r${round}`;
          await verify(server, `${tag}-verify`);
          const cpuBefore = cpuMs(server.pid);
          const { result, peakMb } = await peakRss(server.pid, () => saturate(target(server, tag), settings.seconds, settings.connections));
          // The CPU of every request sent, those answered after the run ended included.
          await settle(server.pid);
          const cpu = cpuMs(server.pid) - cpuBefore;
          const entry = perServer.get(server.spec.name)!;
          entry.peakRssMb = Math.max(entry.peakRssMb, peakMb);
          entry.rounds.push({
            round,
            perSecond: result.perSecond,
            failures: result.failures,
            cpuMsPerRequest: result.sent > 0 ? cpu / result.sent : Number.NaN,
          });
          saturation.set(server.spec.name, result.perSecond);
          log(`r${round} ${workload.name} ${server.spec.name}: ${result.perSecond.toFixed(0)}/s${result.failures ? `, ${result.failures} failed` : ''}`);
        }
        if (!plan.latency) continue;
        const rate = Math.max(1, Math.round((saturation.get(running[0]!.spec.name) ?? 0) / 2));
        for (const server of running) {
          const { result, peakMb } = await peakRss(server.pid, () =>
            fixedRate(target(server, `${server.spec.name}-r${round}-fixed`), rate, settings.seconds, 256),
          );
          await settle(server.pid);
          const entry = perServer.get(server.spec.name)!;
          entry.peakRssMb = Math.max(entry.peakRssMb, peakMb);
          Object.assign(entry.rounds.at(-1)!, { fixed: result });
          log(`r${round} ${workload.name} ${server.spec.name} at ${rate}/s: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`);
        }
      }

      // Statements per request, apart from the load: the server's own count over sequential requests.
      for (const server of running) {
        const before = await server.statements();
        const probes = 10;
        for (let n = 0; n < probes; n++) await post(server, requestBody(workload, subjects, `${server.spec.name}-probe`, n));
        perServer.get(server.spec.name)!.statementsPerRequest = ((await server.statements()) - before) / probes;
      }

      const lead = perServer.get(running[0]!.spec.name)!;
      for (const result of perServer.values()) {
        result.medianPerSecond = median(result.rounds.map((r) => r.perSecond));
        result.leadRatio = median(result.rounds.map((r, i) => (lead.rounds[i]?.perSecond ?? Number.NaN) / r.perSecond));
        result.medianCpuMsPerRequest = median(result.rounds.map((r) => r.cpuMsPerRequest));
        if (plan.latency) {
          result.medianP50 = median(result.rounds.map((r) => r.fixed?.p50 ?? Number.NaN));
          result.medianP99 = median(result.rounds.map((r) => r.fixed?.p99 ?? Number.NaN));
          result.fixedRate = median(result.rounds.map((r) => r.fixed?.rate ?? Number.NaN));
          result.medianAchieved = median(result.rounds.map((r) => r.fixed?.achieved ?? Number.NaN));
        }
      }
      results.push({ workload: workload.name, title: workload.title, lead: running[0]!.spec.name, servers: [...perServer.values()] });
    }

    // Memory from the kernel's own account of each process: resident after start, and the
    // high-water mark (VmHWM), which no sampling interval can miss, after all its load.
    const memory: MemoryResult[] = [...servers.values()].map((server) => ({
      server: server.spec.name,
      title: server.spec.title,
      rssAfterStartMb: server.rssAfterStartMb,
      peakRssMb: server.peakRssMb(),
    }));
    return {
      corpus: corpus === 'demo' ? 'demo corpus' : `${size.articles.toLocaleString('en')}-article corpus`,
      size: { ...size, seedSeconds },
      store: dialect,
      storeVersion,
      subjects,
      results,
      memory,
      minutes: (performance.now() - started) / 60_000,
    };
  } finally {
    for (const server of servers.values()) await server.stop();
    await readerStore.close();
    await throwaway.drop();
  }
}

/** Fails at once, in one line, when PostgreSQL is asked for and does not answer (rather than after the SQLite sections). */
async function postgresAnswers(): Promise<void> {
  const url = process.env.MASTHEAD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(`PostgreSQL does not answer at ${url} (${(error as Error).message}): start it, set MASTHEAD_TEST_POSTGRES_URL, or run BENCH_STORES=sqlite`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const host = machine();
  log(
    `benchmark: corpora ${settings.corpora.join(', ')} on ${settings.stores.join(', ')}; ${settings.rounds} rounds of ${settings.seconds} s, ${settings.connections} connections`,
  );
  if (settings.stores.includes('postgres')) await postgresAnswers();
  const pinned = canPin();
  if (pinned) pinSelf(0);
  else log('taskset or a second core is missing: the servers and the load generator share the cores');

  const sections: Section[] = [];
  for (const corpus of settings.corpora) {
    for (const dialect of settings.stores) sections.push(await runSection(corpus, dialect, pinned));
  }

  host.loadAfter = os.loadavg();
  const report: Report = {
    machine: host,
    settings: { ...settings, pinned },
    minutes: (performance.now() - started) / 60_000,
    sections,
  };
  mkdirSync(settings.output, { recursive: true });
  writeFileSync(path.join(settings.output, 'RESULTS.json'), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderReport(report);
  writeFileSync(path.join(settings.output, 'RESULTS.md'), markdown);
  process.stdout.write(markdown);
  log(`done in ${report.minutes.toFixed(1)} min; wrote ${path.join(settings.output, 'RESULTS.md')} and RESULTS.json`);
  if (sections.some((section) => section.results.some((r) => r.servers.some((s) => s.bodyMismatches.length > 0)))) {
    log('!! some answers differed from the reference: see the report');
    process.exitCode = 1;
  }
}

await main();
// The pg pool of the reader store and autocannon's timers may hold the loop open.
process.exit(process.exitCode ?? 0);
