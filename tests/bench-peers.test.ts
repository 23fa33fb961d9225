// The benchmark compares servers only if they answer alike: each peer, a process of its own on
// the same store, must give Masthead's `data` for every workload, and write what Masthead
// writes for a sign-up.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle } from '../bench/load.ts';
import { type RunningServer, SERVERS, startServer } from '../bench/servers.ts';
import { canonical, pickSubjects } from '../bench/subjects.ts';
import { requestBody, type Subjects, WORKLOADS } from '../bench/workloads.ts';
import { DEMO_CORPUS } from '../src/seed/demo-corpus.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { runNode } from './support/cli.ts';

const reads = WORKLOADS.filter((workload) => !workload.query.startsWith('mutation'));
const signUp = WORKLOADS.find((workload) => workload.name === 'subscribe-new')!;

describe('the benchmark peers on the demo corpus', () => {
  let app: TestApp;
  let subjects: Subjects;
  const peers = new Map<string, RunningServer>();

  beforeAll(async () => {
    app = await createTestApp({ seed: DEMO_CORPUS });
    subjects = await pickSubjects(app.store);
    const logDir = mkdtempSync(path.join(os.tmpdir(), 'masthead-bench-test-'));
    for (const name of ['mercurius-own', 'ceiling', 'engine-floor', 'yoga-own'] as const) {
      peers.set(name, await startServer(SERVERS[name], { env: { DATABASE_URL: app.databaseUrl }, core: null, logDir }));
    }
  }, 120_000);

  afterAll(async () => {
    for (const peer of peers.values()) await peer.stop();
    await app?.close();
  });

  const masthead = async (body: string) => (await app.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text();
  const peer = async (name: string, body: string) => {
    const server = peers.get(name)!;
    const response = await fetch(`http://${server.host}:${server.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: response.status, text: await response.text() };
  };

  it('picks an issue of 15 pieces, the demo corpus’s typical issue', async () => {
    const answer = JSON.parse(await masthead(requestBody(reads.find((w) => w.name === 'issue-page')!, subjects, 'size', 0)));
    expect(answer.data.issue.articles.edges).toHaveLength(15);
  });

  for (const name of ['mercurius-own', 'ceiling', 'engine-floor', 'yoga-own']) {
    for (const workload of reads) {
      it(`the ${name} peer answers the ${workload.name} workload with Masthead's data`, async () => {
        const body = requestBody(workload, subjects, name, 0);
        const expected = canonical(await masthead(body));
        expect(expected).not.toContain('"errors"');
        const { status, text } = await peer(name, body);
        expect(status).toBe(200);
        expect(canonical(text)).toBe(expected);
      });
    }

    it(`the ${name} peer signs up a new address as Masthead does: one sign-up, one consent, one message`, async () => {
      const body = requestBody(signUp, subjects, name, 0);
      const { status, text } = await peer(name, body);
      expect(status).toBe(200);
      // Masthead's answer to another new address (the same one would not be new to it).
      expect(canonical(text)).toBe(canonical(await masthead(requestBody(signUp, subjects, `${name}-masthead`, 0))));
      const email = (signUp.variables(subjects, name, 0) as { email: string }).email;
      const subscription = await app.store.db.selectFrom('subscriptions').select(['id', 'status']).where('email', '=', email).executeTakeFirstOrThrow();
      expect(subscription.status).toBe('pending');
      for (const table of ['consents', 'outbox'] as const) {
        const rows = await app.store.db.selectFrom(table).select('id').where('subscription_id', '=', subscription.id).execute();
        expect(rows, table).toHaveLength(1);
      }
    });

    it(`the ${name} peer keeps concurrent sign-ups apart: each one written once, none refused`, async () => {
      const bodies = Array.from({ length: 40 }, (_, n) => requestBody(signUp, subjects, `${name}-concurrent`, n));
      const answers = await Promise.all(bodies.map((body) => peer(name, body)));
      expect(answers.map((answer) => answer.status)).toEqual(bodies.map(() => 200));
      expect(new Set(answers.map((answer) => canonical(answer.text))).size).toBe(1);
      const written = await app.store.db
        .selectFrom('subscriptions')
        .innerJoin('consents', 'consents.subscription_id', 'subscriptions.id')
        .innerJoin('outbox', 'outbox.subscription_id', 'subscriptions.id')
        .select('subscriptions.email')
        .where('subscriptions.email', 'like', `reader-${name}-concurrent-%`)
        .execute();
      expect(written).toHaveLength(bodies.length);
    });
  }
});

describe('the benchmark runner', () => {
  it('waits for a server to work off what a run left it before measuring the next', async () => {
    // A stand-in server: busy on the CPU for a second and a half after the load stopped, then idle.
    const child = spawn(
      process.execPath,
      ['-e', "const end = Date.now() + 1500; while (Date.now() < end); console.log('idle'); setTimeout(() => {}, 60000);"],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let idle = false;
    child.stdout.on('data', () => {
      idle = true;
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await settle(child.pid!);
      expect(idle).toBe(true);
    } finally {
      child.kill();
    }
  });

  it('refuses a corpus it does not know, naming the ones it does, before any work', async () => {
    const result = await runNode(['--import', 'tsx', 'bench/run.ts'], { BENCH_CORPORA: 'demo,huge' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('BENCH_CORPORA takes a comma-separated list of demo, large; got "huge"');
  });

  it('says in one line that PostgreSQL does not answer before running anything, when it is asked for', async () => {
    const result = await runNode(['--import', 'tsx', 'bench/run.ts'], {
      BENCH_STORES: 'sqlite,postgres',
      MASTHEAD_TEST_POSTGRES_URL: 'postgres://postgres@127.0.0.1:1/postgres',
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('PostgreSQL does not answer at postgres://postgres@127.0.0.1:1/postgres');
    expect(result.stderr).not.toContain('masthead seed');
  });
});
