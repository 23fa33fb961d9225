// The servers under test: each a child process of its own (so CPU time and memory are its own),
// pinned to one core while the runner and its load generator keep to another.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

export type ServerName = 'masthead' | 'ceiling' | 'naive' | 'mercurius' | 'apollo' | 'masthead-cached' | 'constant';

export interface ServerSpec {
  name: ServerName;
  /** A line for the report. */
  title: string;
  entry: string;
  env?: Record<string, string>;
}

export const SERVERS: Record<ServerName, ServerSpec> = {
  masthead: { name: 'masthead', title: 'Masthead (response cache off)', entry: 'bench/peers/masthead.ts', env: { RESPONSE_CACHE: 'off' } },
  ceiling: { name: 'ceiling', title: 'ceiling: node:http, same SQL, hand-built JSON', entry: 'bench/peers/ceiling.ts' },
  naive: { name: 'naive', title: 'naive: Masthead with loaders unbatched (N+1)', entry: 'bench/peers/naive.ts', env: { RESPONSE_CACHE: 'off' } },
  mercurius: { name: 'mercurius', title: 'Mercurius + graphql-jit + its loaders', entry: 'bench/peers/mercurius.ts' },
  apollo: { name: 'apollo', title: 'Apollo Server + DataLoader', entry: 'bench/peers/apollo.ts' },
  'masthead-cached': {
    name: 'masthead-cached',
    title: 'Masthead, response cache on',
    entry: 'bench/peers/masthead.ts',
    env: { RESPONSE_CACHE: 'on' },
  },
  constant: { name: 'constant', title: 'node:http returning a constant JSON body', entry: 'bench/peers/constant.ts' },
};

export interface RunningServer {
  spec: ServerSpec;
  pid: number;
  host: string;
  port: number;
  /** `masthead_store_queries_total` from the server's /metrics. */
  statements(): Promise<number>;
  stop(): Promise<void>;
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

export async function startServer(
  spec: ServerSpec,
  options: { port: number; env: Record<string, string>; core: number | null; logDir: string },
): Promise<RunningServer> {
  const host = '127.0.0.1';
  const node = [process.execPath, '--import', 'tsx', path.join(ROOT, spec.entry)];
  const [command, ...args] = options.core === null ? node : ['taskset', '-c', String(options.core), ...node];
  const logFile = path.join(options.logDir, `${spec.name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(command!, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env, ...spec.env, PORT: String(options.port), HOST: host, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const metricsUrl = `http://${host}:${options.port}/metrics`;
  await waitForMetrics(metricsUrl, child, logFile);
  return {
    spec,
    pid: child.pid ?? 0,
    host,
    port: options.port,
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
