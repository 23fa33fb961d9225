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

let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js')) throw error;
  console.error('masthead has no compiled build (dist/cli/main.js): run `npm run build` (npm ci runs it).');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
