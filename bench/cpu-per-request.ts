// `npm run bench:cpu`: the server process's own CPU time per request (user + system from
// /proc/PID/stat) for each workload, and its RSS after the first answer. CPU time per request is
// what Masthead itself spends, so it stays comparable on a shared machine where req/s does not.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Metrics } from '../src/metrics.ts';
import { DEMO_CORPUS } from '../src/seed/demo-corpus.ts';
import { openStore } from '../src/store/store.ts';
import { createThrowawayStore, type TestDialect } from '../tests/support/store.ts';
import { cpuMs, saturate, settle } from './load.ts';
import { procStatusMb, SERVERS, type ServerName, startServer, UNLIMITED } from './servers.ts';
import { pickSubjects } from './subjects.ts';
import { requestBody, type WorkloadName, WORKLOADS } from './workloads.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const number = (name: string, fallback: number) => Number(process.env[name] || fallback);
const settings = {
  store: (process.env.BENCH_STORES || 'sqlite') as TestDialect,
  rounds: number('BENCH_ROUNDS', 5),
  seconds: number('BENCH_SECONDS', 2),
  connections: number('BENCH_CONNECTIONS', 4),
  workloads: (process.env.BENCH_WORKLOADS || 'typename,issue-page,author-dashboard,authors-overview').split(',') as WorkloadName[],
  servers: (process.env.BENCH_SERVERS || 'masthead').split(',') as ServerName[],
};

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const throwaway = await createThrowawayStore(settings.store);
const logDir = mkdtempSync(path.join(os.tmpdir(), 'masthead-cpu-'));
try {
  const size = DEMO_CORPUS;
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, 'bin/masthead.js'),
      'seed',
      '--articles',
      String(size.articles),
      '--authors',
      String(size.authors),
      '--issues',
      String(size.issues),
      '--seed',
      String(size.seed),
    ],
    { cwd: ROOT, env: { ...process.env, DATABASE_URL: throwaway.databaseUrl }, stdio: 'inherit' },
  );
  const reader = openStore(throwaway.location, new Metrics());
  const subjects = await pickSubjects(reader);
  await reader.close();
  const env = { DATABASE_URL: throwaway.databaseUrl, ...UNLIMITED };
  console.log(`store ${settings.store}, ${settings.rounds} rounds of ${settings.seconds} s, ${settings.connections} connections`);
  console.log('server\tworkload\tCPU ms/req min\tmedian\tmax\treq/s median\tRSS after first answer MiB');
  for (const name of settings.servers) {
    const spec = SERVERS[name];
    for (const workloadName of settings.workloads) {
      const workload = WORKLOADS.find((w) => w.name === workloadName);
      if (!workload) throw new Error(`no workload ${workloadName}`);
      // A fresh process per workload: its RSS after the first answer is that workload's.
      const server = await startServer(spec, { env, core: null, logDir });
      try {
        const target = { host: server.host, port: server.port, body: (n: number) => requestBody(workload, subjects, 'cpu', n), unique: workload.unique };
        const first = await fetch(`http://${server.host}:${server.port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: target.body(0),
        });
        const text = await first.text();
        if (!first.ok || text.includes('"errors"')) throw new Error(`${name} ${workload.name}: ${first.status} ${text.slice(0, 300)}`);
        const rssAfterFirst = procStatusMb(server.pid, 'VmRSS');
        await saturate(target, 1, settings.connections);
        await settle(server.pid);
        const perRequest: number[] = [];
        const rates: number[] = [];
        for (let round = 0; round < settings.rounds; round++) {
          const before = cpuMs(server.pid);
          const run = await saturate(target, settings.seconds, settings.connections);
          await settle(server.pid);
          perRequest.push((cpuMs(server.pid) - before) / run.sent);
          rates.push(run.perSecond);
          if (run.failures > 0) throw new Error(`${name} ${workload.name}: ${run.failures} failures`);
        }
        const f = (v: number) => v.toFixed(3);
        console.log(
          [
            name,
            workload.name,
            f(Math.min(...perRequest)),
            f(median(perRequest)),
            f(Math.max(...perRequest)),
            median(rates).toFixed(0),
            rssAfterFirst.toFixed(1),
          ].join('\t'),
        );
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  await throwaway.drop();
}
