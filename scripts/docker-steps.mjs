#!/usr/bin/env node
// Runs the Dockerfile's steps outside Docker (no Docker engine runs on these machines), so that
// they cannot rot: tests/docker-steps.test.ts runs this script.
//   node scripts/docker-steps.mjs OUT           builds every stage into OUT/<stage>/
//   node scripts/docker-steps.mjs OUT --start   builds, then runs the last stage's CMD
//   node scripts/docker-steps.mjs OUT --start-only   runs the CMD of what an earlier run built
// Each stage's file system is the folder OUT/<stage>: a container path /app is OUT/<stage>/app.
// FROM's image itself is not fetched: its tools (npm, a compiler, python3) are the machine's. COPY
// takes the named files from the build context (this checkout) or from an earlier stage's folder.
// RUN runs in sh, in the WORKDIR, with the ENV so far. USER is honoured when this runs as root:
// chown to a numeric id is done, and CMD runs under that id (setpriv); otherwise both are skipped,
// and said so. Plain JavaScript, so that it needs nothing installed.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const CONTEXT = path.resolve(import.meta.dirname, '..');
const [outArg, ...flags] = process.argv.slice(2);
if (outArg === undefined || flags.length > 1 || flags.some((flag) => flag !== '--start' && flag !== '--start-only')) {
  console.error('Usage: node scripts/docker-steps.mjs OUT [--start | --start-only]');
  process.exit(2);
}
const OUT = path.resolve(outArg);
const isRoot = process.getuid?.() === 0;
const build = !flags.includes('--start-only');

/** The Dockerfile's instructions: continuation lines joined, comments and blank lines dropped. */
function instructions(text) {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: line.slice(keyword.length).trim(), words: rest };
    });
}

const stages = new Map();
let stage = null;

/** A container path in the current stage's folder. */
const inStage = (containerPath, root = stage.root) => path.join(root, path.resolve(stage.workdir, containerPath));

/** `$NAME` and `${NAME}` from the stage's environment, container paths mapped to the stage's folder. */
function expand(value) {
  const replaced = value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name) => stage.env[name] ?? '');
  return replaced
    .split(':')
    .map((part) => (part.startsWith('/app') ? path.join(stage.root, part) : part))
    .join(':');
}

function run(command, args, options) {
  console.log(`docker-steps: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`docker-steps: failed (exit ${result.status ?? result.signal}): ${[command, ...args].join(' ')}`);
    process.exit(1);
  }
}

mkdirSync(OUT, { recursive: true });
// A user without privileges must be able to reach the stage's files, as in an image.
chmodSync(OUT, 0o755);

for (const { keyword, args, words } of instructions(readFileSync(path.join(CONTEXT, 'Dockerfile'), 'utf8'))) {
  switch (keyword) {
    case 'FROM': {
      const name = words[words.length - 2]?.toUpperCase() === 'AS' ? words[words.length - 1] : String(stages.size);
      const root = path.join(OUT, name);
      // A stage starts from its image, not from what an earlier run left.
      if (build) rmSync(root, { recursive: true, force: true });
      mkdirSync(root, { recursive: true });
      chmodSync(root, 0o755);
      // The machine's PATH stands for the image's, less any checkout's node_modules/.bin.
      const machinePath = (process.env.PATH ?? '').split(':').filter((dir) => !dir.includes('node_modules'));
      stage = { name, root, workdir: '/', env: { PATH: machinePath.join(':'), HOME: process.env.HOME ?? '' }, user: null, cmd: null };
      stages.set(name, stage);
      console.log(`docker-steps: stage ${name} in ${root} (${args})`);
      break;
    }
    case 'WORKDIR':
      stage.workdir = path.resolve(stage.workdir, words[0]);
      mkdirSync(inStage('.'), { recursive: true });
      break;
    case 'ENV':
      for (const [, name, value] of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g)) stage.env[name] = expand(value);
      break;
    case 'COPY': {
      if (!build) break;
      const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((word) => !word.startsWith('--'));
      const destination = paths.pop();
      const sourceRoot = from === undefined ? CONTEXT : stages.get(from)?.root;
      if (sourceRoot === undefined) throw new Error(`COPY --from names no earlier stage: ${args}`);
      for (const source of paths) {
        const sourcePath = from === undefined ? path.join(CONTEXT, source) : path.join(sourceRoot, source);
        const target = destination.endsWith('/') ? path.join(inStage(destination), path.basename(source)) : inStage(destination);
        cpSync(sourcePath, target, { recursive: true, verbatimSymlinks: true });
      }
      break;
    }
    case 'RUN': {
      if (!build) break;
      const command = isRoot ? args : args.replace(/&& chown [^&]+/g, '').replace(/^chown [^&]+(&&)?/, '');
      if (command !== args) console.log(`docker-steps: not root, so chown is skipped in: ${args}`);
      run('sh', ['-c', command], { cwd: inStage('.'), env: stage.env });
      break;
    }
    case 'USER':
      stage.user = words[0];
      break;
    case 'CMD':
      stage.cmd = JSON.parse(args);
      break;
    case 'EXPOSE':
      break;
    default:
      throw new Error(`docker-steps does not know ${keyword}: teach it, or keep the Dockerfile to what it knows`);
  }
}

if (flags.length === 1) {
  if (stage?.cmd == null) throw new Error('the last stage has no CMD');
  const [command, ...args] = stage.cmd;
  const asUser = isRoot && stage.user !== null;
  if (!asUser) console.log(`docker-steps: not root, so CMD runs as this user, not as USER ${stage.user}`);
  const [uid, gid = uid] = (stage.user ?? '').split(':');
  const argv = asUser ? ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', command, ...args] : [command, ...args];
  console.log(`docker-steps: ${argv.join(' ')}`);
  // The caller's settings (PORT, DATABASE_URL…) over the image's, as `docker run -e` does.
  const child = spawn(argv[0], argv.slice(1), { cwd: inStage('.'), env: { ...stage.env, ...process.env, PATH: stage.env.PATH }, stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
  child.on('close', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
}
