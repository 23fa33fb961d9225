#!/usr/bin/env node
// Times a command that serves Masthead (by default `npm start`) from its start to a first answer:
// GET /healthz, then a query. Prints one JSON line per run: milliseconds to /healthz, to the query's
// answer, the processor time the command's processes had used by then (user + system: unlike the
// milliseconds, it hardly depends on what else the machine runs), and the resident memory of the
// serving process then. Runs: FIRST_ANSWER_RUNS (default 5).
//   node scripts/first-answer.mjs                      # npm start
//   node scripts/first-answer.mjs node bin/masthead.js serve
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const command = process.argv.length > 2 ? process.argv.slice(2) : ['npm', 'start'];
const runs = Number(process.env.FIRST_ANSWER_RUNS ?? 5);
const port = Number(process.env.PORT ?? 4791);
const query = JSON.stringify({ query: '{ articles(first: 1) { edges { node { headline } } } }' });

/** The chain of processes from `pid` down to the one that listens (npm → sh → node). */
function chain(pid) {
  const pids = [pid];
  for (;;) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    } catch {
      return pids;
    }
    if (children === '') return pids;
    pid = Number(children.split(' ')[0]);
    pids.push(pid);
  }
}

/** Processor time (user + system) a process has used, in ms; clock ticks are 10 ms on Linux. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 102.4) / 10;
}

for (let run = 0; run < runs; run++) {
  const started = performance.now();
  const child = spawn(command[0], command.slice(1), {
    env: { ...process.env, PORT: String(port) },
    stdio: 'ignore',
    detached: true,
  });
  let healthz = null;
  let answer = null;
  const deadline = started + 60_000;
  while (answer === null && performance.now() < deadline) {
    try {
      if (healthz === null) {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (response.ok) healthz = performance.now() - started;
      }
      if (healthz !== null) {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: query,
        });
        const body = await response.json();
        if (!response.ok || body.errors) throw new Error(`query failed: ${JSON.stringify(body)}`);
        answer = performance.now() - started;
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('query failed')) throw error;
      await sleep(5);
    }
  }
  const pids = chain(child.pid);
  const rss = answer === null ? null : rssMiB(pids[pids.length - 1]);
  const cpu = pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  process.kill(-child.pid, 'SIGTERM');
  await new Promise((done) => child.on('close', done));
  if (answer === null) throw new Error(`${command.join(' ')} gave no answer within 60 s`);
  console.log(JSON.stringify({ run, healthzMs: Math.round(healthz), answerMs: Math.round(answer), cpuMs: cpu, rssMiB: rss }));
}
