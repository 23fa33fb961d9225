import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships ESM (index.mjs) beside CommonJS (index.js). Node loads Pothos and Yoga
    // with the CommonJS copy; Vite would give our sources the ESM one, and graphql refuses to
    // mix types from two copies. One copy for everything, as at run time.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
