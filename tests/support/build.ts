import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Vitest's global setup: compiles the sources into dist/ once per run, as `npm ci` does, so that
 * the suite's CLI runs and servers (bin/masthead.js) run the build that ships, of the sources as
 * they are now. Incremental: a second run with nothing changed writes nothing.
 */
export default function buildOnce(): void {
  // Each Vitest project inherits the setup, and runs it in this same process: build only once.
  const built = Symbol.for('masthead.dist-built');
  if ((globalThis as Record<symbol, unknown>)[built]) return;
  (globalThis as Record<symbol, unknown>)[built] = true;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
}
