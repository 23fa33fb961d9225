// The benchmark's report: the numbers as JSON, and as the markdown tables in bench/RESULTS.md.
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
  /** RSS sampled every 100 ms during this workload's load, in MiB. */
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

export interface MemoryResult {
  server: string;
  title: string;
  /** VmRSS once the server first answered, in MiB. */
  rssAfterStartMb: number;
  /** VmHWM after every workload of the section, in MiB. */
  peakRssMb: number;
}

/** One corpus on one store. */
export interface Section {
  corpus: string;
  size: { articles: number; authors: number; issues: number; seed: number; seedSeconds: number };
  store: string;
  storeVersion: string;
  subjects: Subjects;
  results: WorkloadResult[];
  memory: MemoryResult[];
  minutes: number;
}

export interface Report {
  machine: Machine;
  settings: {
    rounds: number;
    seconds: number;
    warmupSeconds: number;
    connections: number;
    latency: boolean;
    pinned: boolean;
  } & Record<string, unknown>;
  minutes: number;
  sections: Section[];
}

const fixed = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits));
const whole = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? 'n/a' : Math.round(value).toLocaleString('en'));
const MB_PER_MIB = 1.048576;

const sectionTitle = (section: Section) => `${section.corpus} on ${section.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`;

/** Where Masthead stands against each server, workload by workload: req/s, and Masthead ÷ the server. */
function summaryTable(section: Section): string[] {
  const names = [...new Set(section.results.filter((r) => r.lead === 'masthead').flatMap((r) => r.servers.map((s) => s.server)))];
  if (names.length === 0) return [];
  const titles = new Map(section.results.flatMap((r) => r.servers.map((s) => [s.server, s.title] as const)));
  const lines = [
    `Requests/s at saturation (median of rounds); in brackets Masthead ÷ that server (median of per-round ratios: above 1 is Masthead faster). ${names
      .map((name) => `\`${name}\`: ${titles.get(name)?.replace(`${name}: `, '')}`)
      .join('; ')}.`,
    '',
    `| workload | ${names.join(' | ')} |`,
    `| --- | ${names.map(() => '---:').join(' | ')} |`,
  ];
  for (const result of section.results.filter((r) => r.lead === 'masthead')) {
    const cells = names.map((name) => {
      const s = result.servers.find((x) => x.server === name);
      if (!s) return '';
      const mismatch = s.bodyMismatches.length > 0 ? ' **differs**' : '';
      return name === 'masthead' ? `${whole(s.medianPerSecond)}${mismatch}` : `${whole(s.medianPerSecond)} (${fixed(s.leadRatio, 2)}×)${mismatch}`;
    });
    lines.push(`| ${result.workload} | ${cells.join(' | ')} |`);
  }
  return [...lines, ''];
}

function memoryTable(section: Section): string[] {
  return [
    'Memory of each server process, from `/proc/PID/status`: VmRSS once it first answered, and VmHWM (its peak resident set) after every workload.',
    '',
    '| server | RSS after start MiB | peak RSS under load MiB |',
    '| --- | ---: | ---: |',
    ...section.memory.map((m) => `| ${m.title} | ${whole(m.rssAfterStartMb)} | ${whole(m.peakRssMb)} |`),
    '',
  ];
}

function workloadTable(result: WorkloadResult): string[] {
  const latency = result.servers.some((s) => s.medianP50 !== undefined);
  const lead = result.servers.find((s) => s.server === result.lead);
  const lines = [
    `#### ${result.title}`,
    '',
    ...(latency
      ? [
          `Latency at a fixed ${whole(lead?.fixedRate)} requests/s: half of ${result.lead}'s saturation (median of rounds). A server that cannot keep up shows its backlog as latency (achieved rate in brackets).`,
          '',
        ]
      : []),
    `| server | req/s | ${result.lead} ÷ this | ${latency ? 'p50 ms | p99 ms | ' : ''}CPU ms/req | statements/req | same JSON |`,
    `| --- | ---: | ---: | ${latency ? '---: | ---: | ' : ''}---: | ---: | --- |`,
  ];
  for (const s of result.servers) {
    const overloaded = s.medianAchieved !== undefined && s.fixedRate !== undefined && s.medianAchieved < 0.95 * s.fixedRate;
    const p99 = `${fixed(s.medianP99, 2)}${overloaded ? ` (${whole(s.medianAchieved)}/s)` : ''}`;
    const failures = s.rounds.reduce((sum, r) => sum + r.failures + (r.fixed?.failures ?? 0), 0);
    lines.push(
      `| ${s.title} | ${whole(s.medianPerSecond)}${failures ? ` (${failures} failed)` : ''} | ${fixed(s.leadRatio, 2)} | ${
        latency ? `${fixed(s.medianP50, 2)} | ${p99} | ` : ''
      }${fixed(s.medianCpuMsPerRequest, 3)} | ${fixed(s.statementsPerRequest, 1)} | ${s.bodyMismatches.length === 0 ? 'yes' : `**no** (${s.bodyMismatches.length})`} |`,
    );
  }
  return [...lines, ''];
}

interface Target {
  target: string;
  where: string;
  measured: string;
  met: boolean | null;
}

/** Issue 14's targets, each on every corpus and store it was measured on. */
export function targets(report: Report): Target[] {
  const out: Target[] = [];
  for (const section of report.sections) {
    const where = sectionTitle(section);
    const find = (workload: WorkloadName, server: string) => section.results.find((r) => r.workload === workload)?.servers.find((s) => s.server === server);
    const ratio = (workload: WorkloadName, server: string, least: number, label: string) => {
      const value = find(workload, server)?.leadRatio;
      if (value === undefined) return;
      out.push({ target: label, where, measured: `${fixed(value, 2)}×`, met: Number.isFinite(value) ? value >= least : null });
    };
    for (const result of section.results.filter((r) => r.lead === 'masthead')) {
      ratio(result.workload, 'mercurius-own', 1, `${result.workload}: Masthead ≥ 1.0× Mercurius + jit (its own schema and SQL)`);
    }
    for (const result of section.results.filter((r) => r.lead === 'masthead')) {
      ratio(result.workload, 'apollo', 2, `${result.workload}: Masthead ≥ 2× Apollo Server`);
    }
    const memory = (server: string) => section.memory.find((m) => m.server === server);
    const masthead = memory('masthead');
    const own = memory('mercurius-own');
    if (masthead && own) {
      const share = masthead.peakRssMb / own.peakRssMb;
      out.push({
        target: 'peak RSS under load ≤ 1.3× the Mercurius peer’s (own schema and SQL)',
        where,
        measured: `${whole(masthead.peakRssMb)} ÷ ${whole(own.peakRssMb)} MiB = ${fixed(share, 2)}×`,
        met: Number.isFinite(share) ? share <= 1.3 : null,
      });
    }
    if (masthead) {
      out.push({
        target: 'RSS after start ≤ 100 MB',
        where,
        measured: `${fixed(masthead.rssAfterStartMb * MB_PER_MIB, 0)} MB (${whole(masthead.rssAfterStartMb)} MiB)`,
        met: Number.isFinite(masthead.rssAfterStartMb) ? masthead.rssAfterStartMb * MB_PER_MIB <= 100 : null,
      });
    }
    ratio('cached-query', 'constant', 0.8, 'response cache on: ≥ 0.8× a node:http handler returning a constant body');
  }
  return out;
}

export function renderReport(report: Report): string {
  const m = report.machine;
  const s = report.settings;
  const smoke = s.rounds < 3 || s.seconds < 3;
  const lines = [
    '# Benchmark results',
    '',
    ...(smoke
      ? [
          `> **A short run (${s.rounds} round${s.rounds === 1 ? '' : 's'} of ${s.seconds} s): it shows that every server answers alike, not how fast they are.** The targets are judged on a full run (\`npm run bench\` with its defaults).`,
          '',
        ]
      : []),
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}; ${m.date}; commit ${m.commit}.`,
    `Load average (1/5/15 min) before: ${m.loadBefore.map((v) => v.toFixed(2)).join(' / ')}; after: ${m.loadAfter.map((v) => v.toFixed(2)).join(' / ')}` +
      ' (the run itself keeps about one core busy; more than that is other work on the machine).',
    '',
    `Method: every corpus and store below is seeded with \`masthead seed\` (the demo corpus is the one \`masthead serve\` loads into an empty store) and served by every server from the same store. ` +
      `Each workload runs in ${s.rounds} interleaved round${s.rounds === 1 ? '' : 's'} (every server in turn, each round) after a ${s.warmupSeconds} s warm-up each; saturation is autocannon, ${s.connections} connections, one request in flight on each, ${s.seconds} s` +
      `${s.latency ? `; latency is an open-loop generator at half Masthead's rate for ${s.seconds} s, timed from when each request was due` : ''}. ` +
      `${s.pinned ? 'Servers are pinned to core 1, the runner and its load generator to core 0 (taskset).' : 'Not pinned (no taskset or one core).'} ` +
      'Response cache off for the throughput tables; on only for the cache row, against a constant body. ' +
      "Every server's answer is compared with Masthead's once per round, by its `data` and `errors` (for a new sign-up, also the rows written); only 2xx answers count as served. " +
      'Rate limits are off for every server (the load comes from one client), and Masthead runs without its mail sender, which works outside any request. ' +
      `Statements per request are each server's own count over 10 sequential requests. Took ${report.minutes.toFixed(1)} min. ` +
      'How each peer is built, and where Masthead’s SQL differs from the Mercurius peer’s own: [bench/README.md](README.md).',
    '',
    '## Targets (issue 14)',
    '',
    '| target | corpus and store | measured | met |',
    '| --- | --- | --- | --- |',
    ...targets(report).map((t) => `| ${t.target} | ${t.where} | ${t.measured} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`),
    '',
    'The ceiling (a `node:http` handler that sends Masthead’s statements and builds the JSON by hand) is the reference, not a target.',
    '',
  ];
  for (const section of report.sections) {
    lines.push(
      `## ${sectionTitle(section)}`,
      '',
      `${section.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ${section.storeVersion}. Corpus: ${section.size.articles.toLocaleString('en')} articles, ${section.size.authors.toLocaleString('en')} authors, ${section.size.issues.toLocaleString('en')} issues (seed ${section.size.seed}, ${section.size.seedSeconds.toFixed(0)} s to seed). ` +
        `Subjects: issue ${section.subjects.issueNumber}, author \`${section.subjects.authorSlug}\`, newsletter \`${section.subjects.newsletterSlug}\`. Took ${section.minutes.toFixed(1)} min.`,
      '',
      ...summaryTable(section),
      ...memoryTable(section),
      '### Per workload',
      '',
    );
    for (const result of section.results) lines.push(...workloadTable(result));
  }
  const mismatches = report.sections.flatMap((section) =>
    section.results.flatMap((r) =>
      r.servers.flatMap((srv) => srv.bodyMismatches.map((x) => `- ${sectionTitle(section)}, ${r.workload} / ${srv.server}: ${x}`)),
    ),
  );
  if (mismatches.length > 0) lines.push('## Answers that differed', '', ...mismatches, '');
  return `${lines.join('\n')}\n`;
}
