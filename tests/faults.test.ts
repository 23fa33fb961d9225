import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../src/metrics.ts';
import { storeFault } from '../src/store/errors.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { openStore } from '../src/store/store.ts';
import { sql } from 'kysely';
import { runCli, type ServerProcess, startServerProcess } from './support/cli.ts';
import { createThrowawayStore, testDialect, type ThrowawayStore } from './support/store.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

// Faults of a real database server: PostgreSQL only (SQLite is a file in the process).

describe.runIf(testDialect === 'postgres')('when the database goes away and comes back', () => {
  let store: ThrowawayStore;
  let proxy: TcpProxy;
  let server: ServerProcess;

  beforeAll(async () => {
    store = await createThrowawayStore();
    expect((await runCli(['seed', '--issues', '3', '--authors', '4', '--articles', '30'], { DATABASE_URL: store.databaseUrl })).code).toBe(0);
    const target = new URL(store.databaseUrl);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(store.databaseUrl);
    viaProxy.port = String(proxy.port);
    server = await startServerProcess({
      DATABASE_URL: viaProxy.toString(),
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
    });
  });
  afterAll(async () => {
    if (process.env.MASTHEAD_TEST_VERBOSE) console.log(server?.output());
    await server?.stop();
    await proxy?.close();
    await store?.drop();
  });

  const graphql = async (query: string, variables?: Record<string, unknown>) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string; extensions?: { code?: string } }> },
    };
  };
  const SUBSCRIBE =
    'mutation S($email: String!) { subscribe(input: { email: $email, newsletter: "breakfast-in-red" }) { subscription { id status } userErrors { code } } }';

  it('fails fast with a clear error and an unready /readyz, then recovers without a restart, losing no sign-up', async () => {
    const before = await graphql(SUBSCRIBE, { email: 'before@example.org' });
    expect(before.body.data?.subscribe).toMatchObject({ subscription: { status: 'PENDING' } });
    expect((await graphql('{ articles(first: 5) { totalCount } }')).status).toBe(200);

    proxy.cut();
    // Not the query asked above: its answer is kept by the response cache, which may still serve it
    // until the server has noticed that the store went away.
    const during = await graphql('{ articles(first: 4) { edges { node { headline } } } }');
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('5');
    expect(during.body.errors?.[0]).toMatchObject({
      message: 'The content store is unavailable. Try again shortly.',
      extensions: { code: 'STORE_UNAVAILABLE' },
    });
    expect(JSON.stringify(during.body)).not.toMatch(/ECONN|terminated|stack/);
    const signUpDuring = await graphql(SUBSCRIBE, { email: 'during@example.org' });
    expect(signUpDuring.status).toBe(503);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    proxy.restore();
    let recovered = false;
    for (let attempt = 0; attempt < 50 && !recovered; attempt++) {
      recovered = (await graphql('{ articles(first: 5) { totalCount } }')).status === 200;
      if (!recovered) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(recovered).toBe(true);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const again = await graphql(SUBSCRIBE, { email: 'before@example.org' });
    expect(again.body.data?.subscribe).toEqual(before.body.data?.subscribe);
  });
});

describe.runIf(testDialect === 'postgres')('a statement that runs too long', () => {
  it('is cancelled by the statement timeout and classed as a timeout', async () => {
    const throwaway = await createThrowawayStore();
    // Migrated apart: on a loaded machine a migration's statement may itself take 100 ms.
    const migrating = openStore(throwaway.location, new Metrics());
    await migrateToLatest(migrating);
    await migrating.close();
    const store = openStore(throwaway.location, new Metrics(), { poolSize: 2, statementTimeoutMs: 100, connectTimeoutMs: 1000 });
    try {
      const error = await sql`select pg_sleep(2)`.execute(store.db).then(
        () => null,
        (e: unknown) => e,
      );
      expect(storeFault(error)).toBe('timeout');
      await expect(sql`select 1 as one`.execute(store.db)).resolves.toBeTruthy();
    } finally {
      await store.close();
      await throwaway.drop();
    }
  });
});
