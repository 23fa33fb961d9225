// The servers under test: each a child process of its own (so CPU time and memory are its own),
// pinned to one core while the runner and its load generator keep to another.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

export type ServerName =
  | 'masthead'
  | 'mercurius-own'
  | 'mercurius'
  | 'apollo'
  | 'ceiling'
  | 'naive'
  | 'engine-floor'
  | 'yoga-own'
  | 'masthead-cached'
  | 'constant';

export interface ServerSpec {
  name: ServerName;
  /** A line for the report. */
  title: string;
  /** What node runs: a peer's TypeScript file (compiled first, see peerBuild), or `masthead serve` itself. */
  command: { file: string } | { masthead: string[] };
  env?: Record<string, string>;
}

/**
 * Settings every server under test gets beside its store: no demo corpus, and no rate limits,
 * which would refuse the benchmark's own load (it all comes from one client).
 */
export const UNLIMITED = {
  DEMO_CONTENT: '0',
  RATE_LIMIT_PER_CLIENT: 'off',
  SUBSCRIBE_RATE_PER_CLIENT: 'off',
  SUBSCRIBE_RATE_PER_EMAIL: 'off',
};

// Masthead runs as `masthead serve` runs, so the benchmark follows its listener wherever it goes;
// only without the mail sender, which drains the outbox outside any request (the peers' too).
const SERVE = { masthead: ['serve'] };

export const SERVERS: Record<ServerName, ServerSpec> = {
  masthead: { name: 'masthead', title: 'Masthead (`masthead serve`, response cache off)', command: SERVE, env: { RESPONSE_CACHE: 'off', MAIL_SENDER: 'off' } },
  'mercurius-own': {
    name: 'mercurius-own',
    title: 'Mercurius + graphql-jit + DataLoader, its own schema and SQL',
    command: { file: 'bench/peers/mercurius-own.ts' },
  },
  mercurius: { name: 'mercurius', title: 'Mercurius + graphql-jit + its loaders, Masthead’s schema and SQL', command: { file: 'bench/peers/mercurius.ts' } },
  apollo: { name: 'apollo', title: 'Apollo Server + DataLoader, Masthead’s schema and SQL', command: { file: 'bench/peers/apollo.ts' } },
  ceiling: { name: 'ceiling', title: 'ceiling: node:http, Masthead’s SQL, hand-built JSON', command: { file: 'bench/peers/ceiling.ts' } },
  naive: {
    name: 'naive',
    title: 'naive: Masthead with loaders unbatched (N+1)',
    command: { file: 'bench/peers/naive.ts' },
    env: { RESPONSE_CACHE: 'off' },
  },
  'engine-floor': {
    name: 'engine-floor',
    title: 'engine floor: Masthead’s Yoga, schema and loaders alone behind a bare node:http handler (no rules, limits, auth, logs or metrics)',
    command: { file: 'bench/peers/engine-floor.ts' },
  },
  'yoga-own': {
    name: 'yoga-own',
    title: 'Yoga + graphql-jit behind a bare node:http handler, serving the Mercurius peer’s own schema, resolvers and SQL',
    command: { file: 'bench/peers/yoga-own.ts' },
  },
  'masthead-cached': {
    name: 'masthead-cached',
    title: 'Masthead (`masthead serve`), response cache on',
    command: SERVE,
    env: { RESPONSE_CACHE: 'on', MAIL_SENDER: 'off' },
  },
  constant: { name: 'constant', title: 'node:http returning a constant JSON body', command: { file: 'bench/peers/constant.ts' } },
};

export interface RunningServer {
  spec: ServerSpec;
  pid: number;
  host: string;
  port: number;
  /** VmRSS in MiB once the server first answered /metrics. */
  rssAfterStartMb: number;
  /** VmHWM in MiB: the process's peak resident set so far. */
  peakRssMb(): number;
  /** The process's exit code, or null while it runs. */
  exitCode(): number | null;
  /** `masthead_store_queries_total` from the server's /metrics. */
  statements(): Promise<number>;
  stop(): Promise<void>;
}

/** A memory figure of /proc/PID/status, in MiB (NaN once the process is gone). */
export function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function canPin(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return Number(execFileSync('nproc').toString().trim()) >= 2;
  } catch {
    return false;
  }
}

/** Pins every thread of this process (the runner and its load generator) to `core`. */
export function pinSelf(core: number): void {
  execFileSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
}

async function waitForMetrics(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before answering; see ${logFile}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server did not answer ${url} within 60 s; see ${logFile}`);
}

let peerBuildDir: string | null = null;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a peer's compiled JavaScript is: the peers (and what they use of src/) are compiled once per
 * process with bench/tsconfig.peers.json, so that no peer process carries a TypeScript loader. Each
 * process compiles into a folder of its own (the test projects run at once), removed at its exit.
 */
function peerBuild(file: string): string {
  if (peerBuildDir === null) {
    const builds = path.join(ROOT, 'node_modules/.cache/bench-peers');
    // Folders of processes gone (a test worker is stopped without its exit handlers) are removed.
    for (const pid of existsSync(builds) ? readdirSync(builds) : [])
      if (!isAlive(Number(pid))) rmSync(path.join(builds, pid), { recursive: true, force: true });
    const dir = path.join(builds, String(process.pid));
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'bench/tsconfig.peers.json'), '--outDir', dir], {
      stdio: 'inherit',
    });
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    peerBuildDir = dir;
  }
  return path.join(peerBuildDir, file.replace(/\.ts$/, '.js'));
}

/** A port no process listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a server on a free port, and resolves once it answers /metrics. */
export async function startServer(spec: ServerSpec, options: { env: Record<string, string>; core: number | null; logDir: string }): Promise<RunningServer> {
  const host = '127.0.0.1';
  const port = await freePort();
  const node =
    'file' in spec.command
      ? [process.execPath, peerBuild(spec.command.file)]
      : [process.execPath, path.join(ROOT, 'bin/masthead.js'), ...spec.command.masthead];
  const [command, ...args] = options.core === null ? node : ['taskset', '-c', String(options.core), ...node];
  const logFile = path.join(options.logDir, `${spec.name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(command!, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env, ...spec.env, PORT: String(port), HOST: host, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const metricsUrl = `http://${host}:${port}/metrics`;
  await waitForMetrics(metricsUrl, child, logFile);
  const pid = child.pid ?? 0;
  return {
    spec,
    pid,
    host,
    port,
    rssAfterStartMb: procStatusMb(pid, 'VmRSS'),
    peakRssMb: () => procStatusMb(pid, 'VmHWM'),
    exitCode: () => child.exitCode,
    async statements() {
      const text = await (await fetch(metricsUrl)).text();
      const match = /^masthead_store_queries_total (\d+)/m.exec(text);
      if (!match) throw new Error(`${spec.name}: no masthead_store_queries_total on /metrics`);
      return Number(match[1]);
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
