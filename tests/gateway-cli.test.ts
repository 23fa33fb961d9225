import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterEach, describe, expect, it } from 'vitest';
import { createCommunitySubgraph } from '../examples/community-subgraph.ts';
import { main } from '../src/cli/main.ts';
import { ROOT, runCli } from './support/cli.ts';

// `masthead gateway` and `masthead compose` before anything is served: flags, config files,
// composition. Store-free: these never reach Masthead's store (see tests/federation.test.ts for
// the gateway serving a composed graph).

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'masthead-gateway-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const MASTHEAD_SDL = path.join(ROOT, 'schema/subgraph.graphql');
// Nothing listens there: a port that was free a moment ago.
const NOWHERE = await new Promise<string>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as AddressInfo;
    probe.close(() => resolve(`http://127.0.0.1:${port}/graphql`));
  });
});

/** A config file that composes from SDL files, so that no subgraph needs to run. */
function configFile(subgraphs: Array<{ name: string; sdl: string }>, extra: Record<string, unknown> = {}): string {
  const dir = tempDir();
  for (const { name, sdl } of subgraphs) if (!sdl.startsWith('/')) writeFileSync(path.join(dir, `${name}.graphql`), sdl);
  const file = path.join(dir, 'gateway.json');
  writeFileSync(
    file,
    JSON.stringify({
      ...extra,
      subgraphs: subgraphs.map(({ name, sdl }) => ({ name, url: NOWHERE, schema: sdl.startsWith('/') ? sdl : `${name}.graphql` })),
    }),
  );
  return file;
}

/** The command line run in this process, for the many ways to get flags wrong; a few run as real processes too. */
async function runInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (text) => (stdout += `${text}\n`), err: (text) => (stderr += `${text}\n`) });
  return { code, stdout, stderr };
}

async function communitySdl(): Promise<string> {
  const response = await createCommunitySubgraph().fetch('http://community.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  return ((await response.json()) as { data: { _service: { sdl: string } } }).data._service.sdl;
}

describe('masthead gateway and compose, the commands', () => {
  it('print their usage for --help and are listed in the main usage', async () => {
    for (const command of ['gateway', 'compose']) {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: masthead ${command} --subgraph NAME=URL`));
      expect(result.stdout).toMatch(/--config FILE/);
      expect(result.stdout).toMatch(/--timeout-ms MS/);
    }
    expect((await runCli(['--help'])).stdout).toMatch(/gateway {2,}Serve Masthead composed/);
  });

  it.each([
    [['--subgraph', 'comments'], /^masthead: --subgraph must be NAME=URL, got "comments"$/],
    [['--subgraph', 'comments=not a url'], /^masthead: --subgraph: the URL of "comments" must be an http:\/\/ or https:\/\/ URL, got "not a url"$/],
    [['--subgraph', 'comments=ftp://127.0.0.1/graphql'], /must be an http:\/\/ or https:\/\/ URL, got "ftp:/],
    [['--subgraph', '=http://127.0.0.1:1/graphql'], /^masthead: --subgraph: the name must be a letter then letters, digits, _ or -, got ""$/],
    [['--subgraph', '9lives=http://127.0.0.1:1/graphql'], /the name must be a letter/],
    [['--subgraph', 'a=http://127.0.0.1:1/graphql', '--subgraph', 'a=http://127.0.0.1:2/graphql'], /^masthead: the subgraph name "a" is given twice$/],
    [['--subgraph', 'a=http://127.0.0.1:1/graphql', '--subgraph', 'A=http://127.0.0.1:2/graphql'], /the subgraph name "A" is given twice/],
    [[], /^masthead: no subgraphs: give --subgraph NAME=URL for each, or --config FILE$/],
    [
      ['--subgraph', 'a=http://127.0.0.1:1/graphql', '--timeout-ms', '0'],
      /^masthead: --timeout-ms must be a whole number of milliseconds from 1 to 600000, got "0"$/,
    ],
    [['--subgraph', 'a=http://127.0.0.1:1/graphql', '--timeout-ms', '2s'], /--timeout-ms must be a whole number/],
    [['--config', '/no/such/gateway.json'], /^masthead: --config \/no\/such\/gateway\.json: no such file$/],
    [['--source', 'reviews'], /^masthead: --source must be NAME=openapi:FILE_OR_URL or NAME=graphql:URL, got "reviews"$/],
    [['--source', 'reviews=soap:http://127.0.0.1:1/wsdl'], /^masthead: --source must be NAME=openapi:FILE_OR_URL or NAME=graphql:URL, got "reviews=soap:/],
    [['--source', 'reviews=graphql:not a url'], /^masthead: --source: the URL of "reviews" must be an http:\/\/ or https:\/\/ URL, got "not a url"$/],
    [['--source', '9=openapi:x.json'], /^masthead: --source: the name must be a letter/],
    [
      ['--source', 'reviews=openapi:/no/such/openapi.json'],
      /^masthead: --source: cannot read the OpenAPI document of "reviews" at \/no\/such\/openapi\.json: no such file$/,
    ],
    [['--source', 'reviews=openapi:package.json', '--source', 'Reviews=graphql:http://127.0.0.1:1/graphql'], /the subgraph name "Reviews" is given twice/],
    [
      ['--subgraph', 'a=http://127.0.0.1:1/graphql', '--joins', '/no/such/joins.graphql'],
      /^masthead: cannot read the joins \/no\/such\/joins\.graphql: no such file$/,
    ],
  ])('refuses %j in one line with status 2, asking no subgraph', async (flags, message) => {
    for (const command of ['gateway', 'compose']) {
      const result = await runInProcess([command, ...flags]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(message);
    }
  });

  it.each([
    ['not JSON', '{ subgraphs: [', /: not JSON: /],
    ['a list', '[]', /: must hold an object with "subgraphs", got \[\]/],
    ['an unknown setting', '{"subgraphs": [], "timeout": 5}', /: unknown setting "timeout"/],
    ['subgraphs that are not a list', '{"subgraphs": {"a": "http://x"}}', /: subgraphs must be a list/],
    ['a subgraph without a URL', '{"subgraphs": [{"name": "a"}]}', /: subgraphs\[0\]: the URL of "a" must be an http:\/\/ or https:\/\/ URL, got undefined/],
    [
      'a subgraph with an unknown setting',
      '{"subgraphs": [{"name": "a", "url": "http://x/graphql", "path": "/"}]}',
      /: subgraphs\[0\]: unknown setting "path"/,
    ],
    [
      'a bad timeout',
      '{"subgraphs": [{"name": "a", "url": "http://x/graphql", "timeoutMs": -1}]}',
      /: subgraphs\[0\]: timeoutMs must be a whole number of milliseconds/,
    ],
  ])('refuses a config file with %s in one line with status 2', async (_name, text, message) => {
    const file = path.join(tempDir(), 'gateway.json');
    writeFileSync(file, text);
    const result = await runInProcess(['gateway', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('refuses a flag without =, a bad URL and a name given twice as a process too: one line, status 2', async () => {
    for (const [command, flags] of [
      ['gateway', ['--subgraph', 'comments']],
      ['compose', ['--subgraph', 'comments=not a url']],
      ['gateway', ['--subgraph', `a=${NOWHERE}`, '--subgraph', `a=${NOWHERE}`]],
    ] as const) {
      const result = await runCli([command, ...flags]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^masthead: [^\n]+\n$/);
    }
  });

  it('refuses an unknown flag with status 2, naming it before the usage', async () => {
    const result = await runCli(['gateway', '--subgraph', `a=${NOWHERE}`, '--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toMatch(/^masthead gateway: .*'--bogus'/);
  });

  it.each([
    [
      { GATEWAY_FORWARD_HEADERS: 'authorization;x-request-id' },
      /^masthead: GATEWAY_FORWARD_HEADERS must be header names separated by commas, or none, got "authorization;x-request-id"\n$/,
    ],
    [
      { GATEWAY_FORWARD_HEADERS: 'authorization, host' },
      /^masthead: GATEWAY_FORWARD_HEADERS cannot forward "host": it belongs to the gateway's own request\n$/,
    ],
    [{ GATEWAY_POLL_MS: '30s' }, /^masthead: GATEWAY_POLL_MS must be a whole number from 0 to 86400000, got "30s"\n$/],
    [{ GATEWAY_QUERY_PLANNER: 'rust' }, /^masthead: GATEWAY_QUERY_PLANNER must be one of router, js, got "rust"\n$/],
  ])('refuses the gateway setting %j in one line with status 2', async (env, message) => {
    const result = await runCli(['gateway', '--subgraph', `a=${NOWHERE}`], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('refuses a bad PORT as serve does', async () => {
    const result = await runCli(['gateway', '--subgraph', `a=${NOWHERE}`], { PORT: 'http' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^masthead: PORT must be a whole number from 0 to 65535, got "http"\n$/);
  });
});

describe('composition at start', () => {
  it('prints the supergraph of Masthead and another subgraph, with every entity key', async () => {
    const file = configFile([
      { name: 'masthead', sdl: MASTHEAD_SDL },
      { name: 'community', sdl: await communitySdl() },
    ]);
    const result = await runCli(['compose', '--config', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`MASTHEAD @join__graph(name: "masthead", url: "${NOWHERE}")`);
    expect(result.stdout).toMatch(/COMMUNITY @join__graph\(name: "community"/);
    for (const [type, natural] of [
      ['Article', 'slug'],
      ['Author', 'slug'],
      ['Issue', 'number'],
      ['Newsletter', 'slug'],
    ]) {
      const keys = new RegExp(
        `type ${type} implements Node[^{]*@join__type\\(graph: MASTHEAD, key: "id"\\)[^{]*@join__type\\(graph: MASTHEAD, key: "${natural}"\\)`,
      );
      expect(result.stdout, type).toMatch(keys);
    }
    expect(result.stdout).toMatch(/comments: \[Comment!\] @join__field\(graph: COMMUNITY\)/);
    expect(result.stdout).not.toMatch(/type NewsletterSubscription[^{]*key:/);
  });

  it('composes beside another Relay-style subgraph with its own PageInfo', async () => {
    const relay = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@shareable"])
      type PageInfo @shareable { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
      type Review { body: String! }
      type ReviewConnection { pageInfo: PageInfo! reviews: [Review!]! }
      type Query { reviews: ReviewConnection! }`;
    const result = await runCli([
      'compose',
      '--config',
      configFile([
        { name: 'masthead', sdl: MASTHEAD_SDL },
        { name: 'reviews', sdl: relay },
      ]),
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/type PageInfo\s+@join__type\(graph: MASTHEAD\)\s+@join__type\(graph: REVIEWS\)/);
  });

  it('refuses an OpenAPI file that is not JSON in one line with status 2', async () => {
    const file = path.join(tempDir(), 'openapi.json');
    writeFileSync(file, '{ "openapi": ');
    const result = await runCli(['compose', '--source', `reviews=openapi:${file}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^masthead: --source: the OpenAPI document of "reviews" at .*openapi\.json is not JSON: [^\n]+\n$/);
  });

  it('composes a plain GraphQL endpoint and an OpenAPI document with the subgraphs, and joins them by configuration', async () => {
    const plain = createServer(
      createYoga({
        schema: createSchema({ typeDefs: 'type Query { weather(city: String!): String! }', resolvers: { Query: { weather: () => 'rain' } } }),
        logging: false,
      }),
    );
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => plain.close(() => resolve())));
    const dir = tempDir();
    const joins = path.join(dir, 'joins.graphql');
    writeFileSync(joins, readFileSync(path.join(ROOT, 'examples/reviews-joins.graphql'), 'utf8'));
    const file = configFile([{ name: 'masthead', sdl: MASTHEAD_SDL }], {
      sources: [
        { name: 'reviews', kind: 'openapi', location: path.join(ROOT, 'examples/reviews-openapi.json') },
        { name: 'weather', kind: 'graphql', location: `http://127.0.0.1:${(plain.address() as AddressInfo).port}/graphql` },
      ],
      joins,
    });
    const result = await runCli(['compose', '--config', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/weather\(city: String!\): String! @join__field\(graph: WEATHER\)/);
    expect(result.stdout).toMatch(/type Review @join__type\(graph: REVIEWS\) \{/);
    expect(result.stdout).toMatch(/reviews: \[Review\] @resolveTo\(sourceName: "reviews"/);
    expect(result.stdout).toMatch(/kind: "rest", location: "http:\/\/127\.0\.0\.1:4002"/);

    writeFileSync(joins, 'extend type Article { reviews: [Review] @resolveTo(');
    const broken = await runCli(['compose', '--config', file]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^masthead compose: the subgraphs do not compose \(1 error\):\nJOINS_INVALID: the joins do not parse: Syntax Error/);
  });

  it('lists every composition error on its own line and exits 2', async () => {
    const clash = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
      type Article @key(fields: "id") { id: ID! headline: Int }
      type Query { pieces: [Article!]! }`;
    const file = configFile([
      { name: 'masthead', sdl: MASTHEAD_SDL },
      { name: 'clash', sdl: clash },
    ]);
    for (const command of ['gateway', 'compose']) {
      const result = await runCli([command, '--config', file]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      const [first, ...errors] = result.stderr.trim().split('\n');
      expect(first).toMatch(new RegExp(`^masthead ${command}: the subgraphs do not compose \\(${errors.length} errors\\):$`));
      expect(errors.length).toBeGreaterThanOrEqual(2);
      for (const error of errors) expect(error).toMatch(/^[A-Z_]+: \S/);
      expect(errors.join('\n')).toMatch(/"Article\.headline"/);
    }
  });

  it('stops with one line and status 1 when a subgraph cannot be reached or is no subgraph', async () => {
    const unreachable = await runCli(['gateway', '--subgraph', `masthead=${NOWHERE}`, '--timeout-ms', '500']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
    expect(unreachable.stderr).toMatch(
      /^masthead gateway: cannot compose: the "masthead" subgraph at http:\/\/127\.0\.0\.1:\d+\/graphql is unreachable: connect ECONNREFUSED/,
    );

    const plain = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errors: [{ message: 'Cannot query field "_service" on type "Query".' }] }));
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => plain.close(() => resolve())));
    const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/graphql`;
    const notSubgraph = await runCli(['compose', '--subgraph', `plain=${url}`]);
    expect(notSubgraph.code).toBe(1);
    expect(notSubgraph.stderr).toMatch(
      /^masthead compose: cannot compose: the "plain" subgraph at .* is not a Federation subgraph \(Cannot query field "_service" on type "Query"\.\)\n$/,
    );
  });

  it('names a subgraph that does not answer within its timeout', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          silent.closeAllConnections();
          silent.close(() => resolve());
        }),
    );
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/graphql`;
    const result = await runCli(['compose', '--subgraph', `slow=${url}`, '--timeout-ms', '300']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^masthead compose: cannot compose: the "slow" subgraph at .* did not answer within 300 ms\n$/);
  });
});
