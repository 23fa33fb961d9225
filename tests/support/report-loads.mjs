// Loaded with `node --import` by tests/runtime.test.ts: prints `loads URL` for every module the
// process loads (ES modules and, through the same hook, those loaded with require), so a test
// can see what a command loads and what it leaves alone.
import { registerHooks } from 'node:module';

registerHooks({
  load(url, context, nextLoad) {
    process.stderr.write(`loads ${url}\n`);
    return nextLoad(url, context);
  },
});
