import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/masthead.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `masthead ARGS…` as a user would, in its own process, with only the given settings. */
export function runCli(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliResult> {
  return runNode([BIN, ...args], env, cwd);
}

/** Runs node with these arguments (a script and its own), with only the given settings. */
export function runNode(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ServerProcess {
  url: string;
  /** The process itself: its pid, and its IPC channel when started with `ipc`. */
  child: ChildProcess;
  stop(): Promise<number | null>;
  /** Ends the process at once (SIGKILL), as a crash would. */
  kill(): Promise<number | null>;
  output(): string;
}

/**
 * Starts `masthead serve` on a free port and waits until it listens. `nodeArgs` go to node before
 * the command (flags, `--import` of a module); `ipc` opens an IPC channel to the process.
 */
export function startServerProcess(
  env: Record<string, string>,
  _unused?: undefined,
  cwd = ROOT,
  options: { nodeArgs?: string[]; ipc?: boolean } = {},
): Promise<ServerProcess> {
  return startListeningProcess(['serve'], env, cwd, options);
}

/** Starts a `masthead` command that serves (serve, gateway) on a free port and waits until it listens. */
export function startListeningProcess(
  args: string[],
  env: Record<string, string> = {},
  cwd = ROOT,
  { nodeArgs = [], ipc = false }: { nodeArgs?: string[]; ipc?: boolean } = {},
): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env },
      stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`masthead ${args[0]} did not start within 30 s:\n${output}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serves (http:\/\/\S+)\/graphql/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({
          url: match[1],
          child,
          output: () => output,
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
          kill: async () => {
            child.kill('SIGKILL');
            return exited;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`masthead ${args[0]} exited with ${code} before listening:\n${output}`));
    });
  });
}
