import { createRequire } from 'node:module';
import pg from 'pg';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
const POSTGRES_URL = process.env.MASTHEAD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Whether the PostgreSQL server that the suite uses answers. */
async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

// The suite runs once per store. Tests that touch no store run in the SQLite pass only.
const STORE_FREE = [
  'tests/documents.test.ts',
  'tests/schema.test.ts',
  'tests/gateway-cli.test.ts',
  'tests/gateway-runtime.test.ts',
  'tests/gateway-live.test.ts',
  'tests/runtime.test.ts',
  'tests/layout.test.ts',
  'tests/work-loop.test.ts',
  'tests/logger.test.ts',
  'tests/settings-docs.test.ts',
  'tests/docker-steps.test.ts',
];

// The Dockerfile's steps compile better-sqlite3 afresh: some three minutes of two cores. They run
// on their own (`npm run test:docker`, a step of .ci/run), so that `npm test` stays short.
const DOCKER_STEPS = 'tests/docker-steps.test.ts';
const dockerSteps = process.env.MASTHEAD_DOCKER_STEPS === '1';

// The soak drives a server at saturation and measures its latency: it runs alone, after the rest.
const ALONE = ['tests/soak.test.ts'];

// Vitest's default is one worker fewer than the cores: one on the 2-core machines we test on,
// which made the suite wholly serial (some 12 minutes). Most test files wait on child processes,
// sockets and the stores rather than on a core, so three at once cut the wall time without
// starving them; MASTHEAD_TEST_WORKERS sets another number.
const workers = Number(process.env.MASTHEAD_TEST_WORKERS ?? 3);
if (!Number.isInteger(workers) || workers < 1) {
  throw new Error(`MASTHEAD_TEST_WORKERS must be a whole number from 1, got "${process.env.MASTHEAD_TEST_WORKERS}"`);
}

export default defineConfig(async () => {
  const withPostgres = process.env.CI === 'true' || (await postgresAnswers());
  if (!withPostgres) {
    console.warn(`\n!! PostgreSQL does not answer at ${POSTGRES_URL}: running the suite on SQLite only.\n`);
  }
  return {
    resolve: {
      // graphql 16 ships ESM (index.mjs) beside CommonJS (index.js). Node loads Pothos and Yoga
      // with the CommonJS copy; Vite would give our sources the ESM one, and graphql refuses to
      // mix types from two copies. One copy for everything, as at run time.
      alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
    },
    test: {
      // Under CI a JSON report as well, from which .ci/run prints its one-line summary.
      ...(process.env.CI === 'true' ? { reporters: ['default', 'json'], outputFile: { json: 'node_modules/.cache/vitest-report.json' } } : {}),
      // bin/masthead.js runs the compiled build: compile it once, before any test spawns it.
      globalSetup: ['tests/support/build.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: 'forks' as const,
      projects: [
        {
          extends: true as const,
          test: {
            name: 'sqlite',
            include: dockerSteps ? [DOCKER_STEPS] : ['tests/**/*.test.ts'],
            exclude: dockerSteps ? [] : [DOCKER_STEPS, ...ALONE],
            env: { MASTHEAD_TEST_STORE: 'sqlite' },
            maxWorkers: workers,
            sequence: { groupOrder: 0 },
          },
        },
        ...(withPostgres && !dockerSteps
          ? [
              {
                extends: true as const,
                test: {
                  name: 'postgres',
                  include: ['tests/**/*.test.ts'],
                  exclude: [...STORE_FREE, ...ALONE],
                  env: { MASTHEAD_TEST_STORE: 'postgres', MASTHEAD_TEST_POSTGRES_URL: POSTGRES_URL },
                  maxWorkers: workers,
                  sequence: { groupOrder: 0 },
                },
              },
            ]
          : []),
        ...(dockerSteps
          ? []
          : [
              {
                extends: true as const,
                test: {
                  name: 'alone',
                  include: ALONE,
                  env: { MASTHEAD_TEST_STORE: 'sqlite' },
                  maxWorkers: 1,
                  sequence: { groupOrder: 1 },
                },
              },
            ]),
      ],
    },
  };
});
