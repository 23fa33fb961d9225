#!/usr/bin/env node
// The `masthead` command. Runs the compiled build in dist/, which `npm ci` leaves (the prepare
// script, `npm run build`); `npm run dev` runs the TypeScript sources instead.
const LOWEST_NODE = 24;

const major = Number(process.versions.node.split('.')[0]);
if (major < LOWEST_NODE) {
  console.error(
    `masthead needs Node ${LOWEST_NODE} or newer; this is Node ${process.versions.node}. ` +
      'Run it through npm (npm start, npx masthead), whose scripts use the Node that npm ci installs into node_modules.',
  );
  process.exit(1);
}

// `masthead serve` and `masthead gateway` run with a young generation (V8's semi-space) of 4 MiB
// instead of Node 24's default, which grows to 32 or 64 MiB on a machine with memory to spare:
// about 15 MiB less RSS after start and 40 to 120 MiB less at peak under load, for more frequent
// minor collections (see docs/operations.md for what that costs). V8 reads the flag only when the process starts, so the process re-executes
// itself with it (process.execve: the same process id, nothing left running). A flag given by the
// operator, on node's command line or in NODE_OPTIONS, is kept as given.
const YOUNG_GENERATION = '--max-semi-space-size';
const YOUNG_GENERATION_MIB = 4;
const command = process.argv[2];
if (
  (command === 'serve' || command === 'gateway') &&
  typeof process.execve === 'function' &&
  // A parent that talks to this process over IPC (the soak reads memory so) would lose its channel.
  process.channel === undefined &&
  ![...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((flag) => flag.startsWith(YOUNG_GENERATION))
) {
  process.execve(
    process.execPath,
    [process.execPath, `${YOUNG_GENERATION}=${YOUNG_GENERATION_MIB}`, ...process.execArgv, ...process.argv.slice(1)],
    process.env,
  );
}

let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js')) throw error;
  console.error('masthead has no compiled build (dist/cli/main.js): run `npm run build` (npm ci runs it).');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
