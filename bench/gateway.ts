// The gateway's overhead (`npm run bench:gateway`): requests/s and p99 through `masthead gateway`
// against Masthead directly, on the old runtime (@apollo/gateway: Masthead at commit abb7a18,
// built outside this checkout by bench/gateway-old-runtime.sh, BENCH_OLD_ROOT) and the new one
// (Hive Gateway, this checkout's dist), for the issue page (only Masthead serves it) and for a
// page of articles with their comments (joined from the community example subgraph). Rounds
// interleave the targets, so that a machine whose load changes during the run treats them alike;
// the report gives medians and ratios, and the load average before and after.
//
// Beside req/s and p99, each run's CPU time per request of every process (the gateway, Masthead,
// the community subgraph, and this load generator), from /proc: on a shared machine req/s swings
// with the others' load, while the CPU a request costs each process holds much steadier.
//
// Every request of a run names another issue (see measure()).
//
// Knobs: BENCH_ROUNDS (5), BENCH_SECONDS (5), BENCH_CONNECTIONS (20), BENCH_REPEAT (off),
// BENCH_OLD_ROOT (/tmp/masthead-old-runtime; `off` benches without the old runtime).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { cpuMs, settle } from './load.ts';
import { ISSUE_PAGE } from './workloads.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const OLD_ROOT = process.env.BENCH_OLD_ROOT ?? '/tmp/masthead-old-runtime';
const WITH_OLD = OLD_ROOT !== 'off';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
/** on: every request the same body (the first issue), so that Hive Gateway's merging of identical requests in flight shows. */
const REPEAT = process.env.BENCH_REPEAT === 'on';

// An issue's pieces with their comments from the community subgraph.
const JOINED = 'query Joined($number: Int!) { issue(number: $number) { articles(first: 50) { edges { node { headline comments { body } } } } } }';

interface Started {
  url: string;
  child: ChildProcess;
}

/** Starts a process and waits for the line that says where it serves. */
function started(args: string[], env: Record<string, string>, cwd: string, ready: RegExp): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1], child });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`)));
  });
}

async function graphql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (body.errors) throw new Error(`${url}: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.data as Record<string, unknown>;
}

/**
 * Saturates a target with the bodies in turn. Distinct bodies (one issue after another): Hive
 * Gateway merges identical requests in flight to a subgraph, which one repeated body would turn
 * into a measure of that merging rather than of the gateway.
 */
async function measure(url: string, bodies: string[], pids: Record<string, number> = {}) {
  let n = 0;
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
  const ownBefore = process.cpuUsage();
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: bodies[n++ % bodies.length] as string }),
      },
    ],
  });
  const own = process.cpuUsage(ownBefore);
  // Requests still in flight when the load stops are worked off before the CPU is read: they were sent, and counted.
  await Promise.all(Object.values(pids).map((pid) => settle(pid, 10)));
  const sent = Math.max(result.requests.sent, 1);
  const cpuPerRequest: Record<string, number> = Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => [name, (cpuMs(pid) - (cpuBefore[name] as number)) / sent]),
  );
  cpuPerRequest.loadGenerator = (own.user + own.system) / 1000 / sent;
  cpuPerRequest.all = Object.values(cpuPerRequest).reduce((sum, value) => sum + value, 0);
  return { rps: result.requests.average, p99: result.latency.p99, failures: result.non2xx + result.errors + result.timeouts, cpuPerRequest };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

async function main() {
  if (WITH_OLD && !(existsSync(path.join(OLD_ROOT, 'dist/cli/main.js')) && existsSync(path.join(OLD_ROOT, 'node_modules/@apollo/gateway/package.json')))) {
    console.error(
      `bench:gateway: ${OLD_ROOT} (BENCH_OLD_ROOT) is not a built Masthead with @apollo/gateway, the old runtime.\n` +
        `Build one with \`bench/gateway-old-runtime.sh ${OLD_ROOT}\` (a few minutes), or set BENCH_OLD_ROOT=off to bench without it.`,
    );
    process.exit(2);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'masthead-bench-gateway-'));
  const children: ChildProcess[] = [];
  try {
    const masthead = await started(
      [path.join(ROOT, 'bin/masthead.js'), 'serve'],
      // The response cache off: every request through each path is computed, so that the
      // gateway's cost is what differs. No rate limit: the load generator is one client.
      { PORT: '0', DATABASE_URL: `sqlite:${path.join(dir, 'bench.sqlite')}`, DEMO_CONTENT: '1', RESPONSE_CACHE: 'off', RATE_LIMIT_PER_CLIENT: 'off' },
      ROOT,
      /serves (http:\/\/\S+\/graphql)/,
    );
    children.push(masthead.child);
    const mastheadUrl = masthead.url;
    const data = (await graphql(mastheadUrl, '{ articles(first: 100) { edges { node { slug } } } issues(first: 100) { edges { node { number } } } }')) as {
      articles: { edges: { node: { slug: string } }[] };
      issues: { edges: { node: { number: number } }[] };
    };
    const numbers = data.issues.edges.map((edge) => edge.node.number);
    const slugs = data.articles.edges.map((edge) => edge.node.slug);
    const comments = slugs.flatMap((slug, index) => [0, 1, 2].map((n) => ({ articleSlug: slug, body: `Comment ${index}.${n}` })));
    const communityData = path.join(dir, 'community.json');
    writeFileSync(communityData, JSON.stringify({ comments, members: [] }));
    const community = await started(
      ['--import', 'tsx', '-e', `import('${path.join(ROOT, 'bench/gateway-community.ts')}')`],
      { PORT: '0', COMMUNITY_DATA: communityData },
      ROOT,
      /serves (http:\/\/\S+\/graphql)/,
    );
    children.push(community.child);

    const gatewayArgs = ['gateway', '--subgraph', `masthead=${mastheadUrl}`, '--subgraph', `community=${community.url}`];
    const gatewayEnv = { PORT: '0', GATEWAY_POLL_MS: '0' };
    const oldGateway = WITH_OLD
      ? await started([path.join(OLD_ROOT, 'bin/masthead.js'), ...gatewayArgs], gatewayEnv, OLD_ROOT, /serves (http:\/\/\S+\/graphql)/)
      : null;
    if (oldGateway) children.push(oldGateway.child);
    const newGateway = await started([path.join(ROOT, 'bin/masthead.js'), ...gatewayArgs], gatewayEnv, ROOT, /serves (http:\/\/\S+\/graphql)/);
    children.push(newGateway.child);

    const issues = REPEAT ? numbers.slice(0, 1) : numbers;
    const issueBodies = issues.map((number) => JSON.stringify({ query: ISSUE_PAGE, variables: { number } }));
    const joinedBodies = issues.map((number) => JSON.stringify({ query: JOINED, variables: { number } }));
    type Target = 'direct' | 'old' | 'new';
    const targets: Record<Target, Started | null> = { direct: masthead, old: oldGateway, new: newGateway };
    const gateways = (['old', 'new'] as const).filter((target) => targets[target] !== null);
    // Same answers from every target before anything is timed.
    const first = numbers[0] as number;
    const direct = JSON.stringify(await graphql(mastheadUrl, ISSUE_PAGE, { number: first }));
    for (const target of gateways) {
      const url = (targets[target] as Started).url;
      if (JSON.stringify(await graphql(url, ISSUE_PAGE, { number: first })) !== direct) throw new Error(`${url} answers the issue page otherwise`);
      const joined = (await graphql(url, JOINED, { number: first })) as { issue: { articles: { edges: { node: { comments: unknown[] } }[] } } };
      if (!joined.issue.articles.edges.some((edge) => edge.node.comments.length === 3)) throw new Error(`${url} did not join the comments`);
    }
    // Whose CPU a run through each target costs: the gateway it goes through, and the subgraphs.
    const pidsOf = (target: Target): Record<string, number> => {
      const pids: Record<string, number> = { masthead: masthead.child.pid as number, community: community.child.pid as number };
      if (target !== 'direct') pids.gateway = (targets[target] as Started).child.pid as number;
      return pids;
    };

    const load = [os.loadavg()];
    const runs: Array<{ workload: string; target: Target; rps: number; p99: number; failures: number; cpuPerRequest: Record<string, number> }> = [];
    const plan = [
      ...(['direct', ...gateways] as const).map((target) => ({ workload: 'issue-page', target, bodies: issueBodies })),
      ...gateways.map((target) => ({ workload: 'joined-comments', target, bodies: joinedBodies })),
    ];
    const ms = (value: number | undefined) => (value ?? 0).toFixed(2);
    for (const { target, bodies } of plan) await measure((targets[target] as Started).url, bodies, pidsOf(target)).catch(() => undefined); // warm-up
    for (let round = 1; round <= ROUNDS; round++) {
      // Each round in another order, so that no target always follows the same one.
      const order = round % 2 === 0 ? [...plan].reverse() : plan;
      for (const { workload, target, bodies } of order) {
        const result = await measure((targets[target] as Started).url, bodies, pidsOf(target));
        runs.push({ workload, target, ...result });
        const cpu = result.cpuPerRequest;
        console.error(
          `round ${round} ${workload} ${target}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms, ${result.failures} failures; ` +
            `CPU ms/req gateway ${ms(cpu.gateway)} masthead ${ms(cpu.masthead)} community ${ms(cpu.community)} load generator ${ms(cpu.loadGenerator)} all ${ms(cpu.all)}`,
        );
      }
    }
    load.push(os.loadavg());

    const round2 = (value: number) => Math.round(value * 100) / 100;
    const summary = (workload: string, target: Target) => {
      const mine = runs.filter((run) => run.workload === workload && run.target === target);
      if (mine.length === 0) return null;
      const names = Object.keys(mine[0]?.cpuPerRequest ?? {});
      return {
        rps: median(mine.map((run) => run.rps)),
        p99: median(mine.map((run) => run.p99)),
        failures: mine.reduce((sum, run) => sum + run.failures, 0),
        // Medians, and the range over the rounds: how steady each is on this machine.
        cpuMsPerRequest: Object.fromEntries(
          names.map((name) => {
            const values = mine.map((run) => run.cpuPerRequest[name] as number);
            return [name, { median: round2(median(values)), min: round2(Math.min(...values)), max: round2(Math.max(...values)) }];
          }),
        ),
      };
    };
    const issue = { direct: summary('issue-page', 'direct'), old: summary('issue-page', 'old'), new: summary('issue-page', 'new') };
    const joined = { old: summary('joined-comments', 'old'), new: summary('joined-comments', 'new') };
    const ratio = (a: { rps: number } | null, b: { rps: number } | null) => (a && b ? a.rps / b.rps : null);
    const report = {
      when: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      loadAverage: { before: load[0], after: load[1] },
      settings: {
        rounds: ROUNDS,
        seconds: SECONDS,
        connections: CONNECTIONS,
        repeatedBody: REPEAT,
        issues: issues.length,
        oldRoot: WITH_OLD ? OLD_ROOT : null,
      },
      issuePage: issue,
      joinedComments: joined,
      ratios: {
        issuePageNewOverDirect: ratio(issue.new, issue.direct),
        issuePageOldOverDirect: ratio(issue.old, issue.direct),
        issuePageNewOverOld: ratio(issue.new, issue.old),
        joinedNewOverOld: ratio(joined.new, joined.old),
      },
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
