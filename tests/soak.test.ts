import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runNode } from './support/cli.ts';
import { testDialect } from './support/store.ts';

// The real soak runs for a minute or more by hand (README, "Soak"); this short run proves that
// the script works end to end. It needs no second store: the SQLite pass only.
describe.runIf(testDialect === 'sqlite')('the soak (npm run soak)', () => {
  it('drives a mixed workload at a real server and reports errors, throughput, latency and memory', { timeout: 90_000 }, async () => {
    // As `npm run soak` runs it (through tsx), for five seconds on the demo corpus. Five seconds
    // cannot tell growth from warm-up: the memory limit is loose here, and 1.5× in the real run.
    const result = await runNode(['--import', 'tsx', path.join(ROOT, 'scripts/soak.ts')], {
      SOAK_SECONDS: '5',
      SOAK_ARTICLES: '0',
      SOAK_CONCURRENCY: '4',
      SOAK_MAX_GROWTH: '3',
      // Two and a half seconds of each half cannot give a steady p99 on a shared machine: the
      // hostile half must answer every attack rightly here, and keep within 3× in the real run.
      SOAK_MAX_SLOWDOWN: '20',
    });
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    expect(output).toMatch(/^requests +[\d,]+ in [\d.]+ s: [\d,]+\/s; errors 0 \(5xx or failed: 0\)$/m);
    expect(output).toMatch(/^latency +p50 [\d.]+ ms, p99 [\d.]+ ms/m);
    for (const operation of ['issue page', 'author dashboard', 'search', 'node lookup', 'subscribe', 'malformed']) {
      expect(output).toMatch(new RegExp(`^\\| ${operation} \\| [\\d,]+ \\|`, 'm'));
    }
    expect(output).toMatch(/^\| end \(\d+ s\) \| [\d.]+ \| [\d.]+ \|$/m);
    expect(output).toMatch(/^\| hostile: fragment chain \(30\) \| [\d,]+ \|/m);
    expect(output).toMatch(/^hostile +1 hostile clients from \d+ s: normal requests' p99 [\d.]+ ms alone, [\d.]+ ms beside them/m);
    expect(output).toMatch(/^shutdown +SIGTERM → exit code 0; 0 error lines/m);
    expect(output.trim().endsWith('PASS')).toBe(true);
  });
});
