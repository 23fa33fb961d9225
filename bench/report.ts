// The benchmark's report: the numbers as JSON, and as the markdown table in bench/RESULTS.md.
import type { FixedRate } from './load.ts';
import type { Subjects, WorkloadName } from './workloads.ts';

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  os: string;
  date: string;
  /** The 1, 5 and 15 minute load averages when the run started and ended: other work on the machine. */
  loadBefore: number[];
  loadAfter: number[];
  store: string;
  storeVersion: string;
  /** The commit measured. */
  commit: string;
}

export interface Round {
  round: number;
  perSecond: number;
  failures: number;
  cpuMsPerRequest: number;
  fixed?: FixedRate;
}

export interface ServerResult {
  server: string;
  title: string;
  rounds: Round[];
  bodyMismatches: string[];
  peakRssMb: number;
  statementsPerRequest: number;
  medianPerSecond?: number;
  /** The median over rounds of (the lead server's requests/s ÷ this server's), each round's pair measured back to back. */
  leadRatio?: number;
  medianCpuMsPerRequest?: number;
  medianP50?: number;
  medianP99?: number;
  fixedRate?: number;
  medianAchieved?: number;
}

export interface WorkloadResult {
  workload: WorkloadName;
  title: string;
  lead: string;
  servers: ServerResult[];
}

export interface Report {
  machine: Machine;
  settings: Record<string, unknown>;
  corpus: { articles: number; authors: number; issues: number; seedSeconds: number };
  subjects: Subjects;
  minutes: number;
  results: WorkloadResult[];
}

const fixed = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits));
const whole = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? 'n/a' : Math.round(value).toLocaleString('en'));

function workloadTable(result: WorkloadResult): string[] {
  const latency = result.servers.some((s) => s.medianP50 !== undefined);
  const lead = result.servers.find((s) => s.server === result.lead);
  const lines = [
    `### ${result.title}`,
    '',
    latency
      ? `Latency at a fixed ${whole(lead?.fixedRate)} requests/s: half of ${result.lead}'s saturation (median of rounds). A server that cannot keep up shows its backlog as latency (achieved rate in brackets).`
      : 'Saturation only.',
    '',
    `| server | req/s | ${result.lead} ÷ this | ${latency ? 'p50 ms | p99 ms | p99 ÷ p50 | ' : ''}CPU ms/req | peak RSS MiB | statements/req | same JSON |`,
    `| --- | ---: | ---: | ${latency ? '---: | ---: | ---: | ' : ''}---: | ---: | ---: | --- |`,
  ];
  for (const s of result.servers) {
    const overloaded = s.medianAchieved !== undefined && s.fixedRate !== undefined && s.medianAchieved < 0.95 * s.fixedRate;
    const p99 = `${fixed(s.medianP99, 2)}${overloaded ? ` (${whole(s.medianAchieved)}/s)` : ''}`;
    const failures = s.rounds.reduce((sum, r) => sum + r.failures + (r.fixed?.failures ?? 0), 0);
    lines.push(
      `| ${s.title} | ${whole(s.medianPerSecond)}${failures ? ` (${failures} failed)` : ''} | ${fixed(s.leadRatio, 2)} | ${
        latency ? `${fixed(s.medianP50, 2)} | ${p99} | ${fixed((s.medianP99 ?? Number.NaN) / (s.medianP50 ?? Number.NaN), 1)} | ` : ''
      }${fixed(s.medianCpuMsPerRequest, 3)} | ${whole(s.peakRssMb)} | ${fixed(s.statementsPerRequest, 1)} | ${s.bodyMismatches.length === 0 ? 'yes' : `**no** (${s.bodyMismatches.length})`} |`,
    );
  }
  return [...lines, ''];
}

interface Target {
  target: string;
  measured: string;
  met: boolean | null;
}

function targets(report: Report): Target[] {
  const find = (workload: WorkloadName, server: string) => report.results.find((r) => r.workload === workload)?.servers.find((s) => s.server === server);
  const out: Target[] = [];
  const ratio = (workload: WorkloadName, server: string, least: number, label: string) => {
    const value = find(workload, server)?.leadRatio;
    if (value === undefined) return;
    out.push({ target: label, measured: `${value.toFixed(2)}×`, met: value >= least });
  };
  for (const [workload, name] of [
    ['issue-page', '(a)'],
    ['author-dashboard', '(b)'],
  ] as const) {
    ratio(workload, 'ceiling', 0.85, `${name} Masthead ≥ 0.85× the ceiling's req/s`);
    ratio(workload, 'mercurius', 2, `${name} Masthead ≥ 2× Mercurius + jit`);
    ratio(workload, 'apollo', 2, `${name} Masthead ≥ 2× Apollo`);
  }
  ratio('subscribe-new', 'ceiling', 0.7, '(c) new address: Masthead ≥ 0.7× the ceiling');
  ratio('subscribe-repeated', 'ceiling', 0.7, '(c) repeated address: Masthead ≥ 0.7× the ceiling');
  const signUp = find('subscribe-new', 'masthead');
  if (signUp) {
    out.push({
      target: '(c) one store round trip for a new address',
      measured: `${fixed(signUp.statementsPerRequest, 1)} statements (begin and commit included)`,
      met: signUp.statementsPerRequest <= 1,
    });
  }
  for (const result of report.results) {
    const masthead = result.servers.find((s) => s.server === 'masthead');
    if (!masthead) continue;
    if (masthead.medianP50 !== undefined && masthead.medianP99 !== undefined) {
      const spread = masthead.medianP99 / masthead.medianP50;
      out.push({
        target: `${result.workload}: p99 ≤ 3× p50 at half load`,
        measured: `${spread.toFixed(1)}× (${fixed(masthead.medianP50, 2)} / ${fixed(masthead.medianP99, 2)} ms)`,
        met: spread <= 3,
      });
    }
    out.push({
      target: `${result.workload}: peak RSS under load ≤ 200 MB`,
      measured: `${whole(masthead.peakRssMb)} MiB`,
      met: masthead.peakRssMb * 1.048576 <= 200,
    });
  }
  const cached = find('cached-query', 'constant');
  if (cached?.leadRatio !== undefined) {
    out.push({
      target: 'response cache on: ≥ 0.8× a constant-JSON node:http handler',
      measured: `${cached.leadRatio.toFixed(2)}×`,
      met: cached.leadRatio >= 0.8,
    });
  }
  return out;
}

export function renderReport(report: Report): string {
  const m = report.machine;
  const s = report.settings;
  const lines = [
    '# Benchmark results',
    '',
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, ${m.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ${m.storeVersion}; ${m.date}; commit ${m.commit}.`,
    `Load average (1/5/15 min) before: ${m.loadBefore.map((v) => v.toFixed(2)).join(' / ')}; after: ${m.loadAfter.map((v) => v.toFixed(2)).join(' / ')}` +
      ' (the run itself keeps about one core busy; more than that is other work on the machine).',
    '',
    `Corpus: \`masthead seed\` with ${report.corpus.articles.toLocaleString('en')} articles, ${report.corpus.authors.toLocaleString('en')} authors, ${report.corpus.issues.toLocaleString('en')} issues (${report.corpus.seedSeconds.toFixed(0)} s); one store file for every server. Subjects: issue ${report.subjects.issueNumber}, author \`${report.subjects.authorSlug}\`, newsletter \`${report.subjects.newsletterSlug}\`.`,
    `Method: ${s.rounds} interleaved rounds (every server in turn, each round) after a ${s.warmupSeconds} s warm-up each; saturation is autocannon, ${s.connections} connections, 1 request in flight on each, ${s.seconds} s; latency is an open-loop generator at a fixed rate for ${s.seconds} s, timed from when each request was due. ` +
      `${s.pinned ? 'Servers pinned to core 1, the runner and load generator to core 0 (taskset).' : 'Not pinned (no taskset or one core).'} ` +
      "Ratios are medians of per-round ratios. Every server's answer is compared with the reference once per round (for sign-ups, also the rows written). " +
      "Rate limits are off for every server (RATE_LIMIT_PER_CLIENT=off, SUBSCRIBE_RATE_PER_CLIENT=off, SUBSCRIBE_RATE_PER_EMAIL=off): the load comes from one client. Answers are compared by their data and errors (`extensions` is each server's own report). Only 2xx answers count as served. Masthead runs without its mail sender, which drains the outbox outside any request. " +
      `Statements per request are each server's own count over 10 sequential requests. Took ${report.minutes.toFixed(1)} min.`,
    '',
    '## Targets',
    '',
    '| target | measured | met |',
    '| --- | --- | --- |',
    ...targets(report).map((t) => `| ${t.target} | ${t.measured} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`),
    '',
    '## Workloads',
    '',
  ];
  for (const result of report.results) lines.push(...workloadTable(result));
  const mismatches = report.results.flatMap((r) => r.servers.flatMap((srv) => srv.bodyMismatches.map((x) => `- ${r.workload} / ${srv.server}: ${x}`)));
  if (mismatches.length > 0) lines.push('## Answers that differed', '', ...mismatches, '');
  return `${lines.join('\n')}\n`;
}
