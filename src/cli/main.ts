import { type Config, ConfigError, describeStore, loadConfig, parseStoreLocation } from '../config.ts';
import { storeFault } from '../store/errors.ts';
import { DEMO_CORPUS } from '../seed/demo-corpus.ts';
import type { Store } from '../store/store.ts';
import { COMPOSE_USAGE, compose, GATEWAY_USAGE, gateway } from './gateway-commands.ts';
import { untilStopped } from './signals.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, integerFlag, type Out, parseFlags, printed, UsageError } from './usage.ts';

// Commands load what they use when they run: `--help` and a bad setting answer at once, and
// only `serve` pays for loading the GraphQL server.

const USAGE: Record<string, string> = {
  main: `Usage: masthead <command> [options]

Commands:
  serve            Serve the graph on /graphql (migrates the store first)
  migrate          Bring the store's schema up to date
  import PATH...   Import article documents from files or folders (*.txt)
  seed             Fill an empty store with a synthetic corpus
  newsletter       Add newsletters, and list them with their subscriber counts
  keys             Create, list and revoke API keys for editors and admins
  webhooks         Add, list and remove webhook endpoints; see their deliveries
  gateway          Serve Masthead composed with other Federation subgraphs
  compose          Print the supergraph SDL of Masthead and other subgraphs

Run 'masthead <command> --help' for a command's options. Settings come from the
environment: PORT, HOST, DATABASE_URL, DEMO_CONTENT, MAX_PAGE_SIZE, PUBLIC_URL,
SMTP_URL, MAIL_FROM, REDIS_URL and more (see docs/configuration.md).`,
  serve: `Usage: masthead serve

Serves GraphQL on http://HOST:PORT/graphql with GraphiQL, plus /healthz, /readyz,
/metrics and the sign-up pages (/subscriptions/confirm, /subscriptions/unsubscribe).
Migrates the store first and, when DEMO_CONTENT=1 and the store is empty, loads the
demo corpus. Sends queued mail over SMTP_URL, or writes it to MAIL_DIR when SMTP_URL
is unset. Stops cleanly on SIGTERM or SIGINT.`,
  migrate: `Usage: masthead migrate

Brings the store's schema up to date. Safe to run from several processes at once.`,
  import: `Usage: masthead import PATH...

Imports article documents: files as given, folders searched recursively for *.txt.
The same piece (same headline and publication time) is updated in place, so importing
twice changes nothing. Each document is one transaction; a document that cannot be read
is reported with its path and reason, the rest still land, and the exit status is 1.`,
  seed: `Usage: masthead seed [--issues N] [--authors N] [--articles N] [--seed N]

Fills an EMPTY store with a deterministic synthetic corpus (the same flags always make
the same corpus), in one transaction. Defaults: the demo corpus, ${DEMO_CORPUS.issues} issues,
${DEMO_CORPUS.authors} authors, ${DEMO_CORPUS.articles} articles.

Options:
  --issues N     print issues, weekly up to 2026-11-18 (0 to 1000000)
  --authors N    authors (0 to 1000000)
  --articles N   articles (0 to 10000000)
  --seed N       random seed (default ${DEMO_CORPUS.seed})`,
  newsletter: `Usage: masthead newsletter add --slug SLUG --name NAME [--description TEXT]
       masthead newsletter list [--json]

add    Adds a newsletter that readers can sign up to. The slug is what sign-ups
       name (lower-case letters, digits and single hyphens); a taken slug is refused.
list   Lists every newsletter with its sign-ups: pending, active and unsubscribed.`,
  keys: `Usage: masthead keys create --role editor|admin [--name NAME] [--cost-budget N]
       masthead keys list [--json]
       masthead keys revoke ID

create   Makes an API key and prints its secret once: only its hash is stored. Send it
         as "Authorization: Bearer <secret>". Editors preview drafts and scheduled
         pieces and see subscriber counts; admins also read sign-ups with e-mails.
         --cost-budget N: query cost points per minute (default COST_BUDGET_PER_KEY).
list     Lists keys without their secrets: id, name, role, prefix, created, revoked.
revoke   Revokes a key at once.`,
  webhooks: `Usage: masthead webhooks add --url URL [--events LIST] [--name NAME]
       masthead webhooks list [--json]
       masthead webhooks remove ID
       masthead webhooks enable ID
       masthead webhooks deliveries ID [--limit N] [--json]

add         Adds an endpoint and prints its id and signing secret (whsec_...), the
            secret this once. --events: comma-separated, from article.published,
            article.updated, article.withdrawn, issue.published, cache.purge
            (default: all but cache.purge). Receivers on loopback, private or
            link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1.
list        Lists endpoints: id, name, URL, events, on or off, failures in a row.
remove      Removes an endpoint and its deliveries.
enable      Switches an endpoint on again (after a run of failures switched it off).
deliveries  An endpoint's recent deliveries, newest first: event, status, attempts,
            the last attempt's time, HTTP status, duration and error (default 20).`,
  gateway: GATEWAY_USAGE,
  compose: COMPOSE_USAGE,
};

/**
 * A failure that a setting explains, said in the setting's name: a port that is taken, a store
 * that cannot be reached or opened. Null for anything else.
 */
function settingAtFault(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const { code, port, address } = error as { code?: unknown; port?: unknown; address?: unknown };
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const where = `PORT ${String(port)} on HOST ${String(address)}`;
    return code === 'EADDRINUSE'
      ? `${where} is already in use: stop what listens there, or set PORT to another port (0 picks a free one)`
      : `${where} may not be listened on by this user: set PORT to a port above 1023`;
  }
  let store: ReturnType<typeof parseStoreLocation>;
  try {
    store = parseStoreLocation(process.env.DATABASE_URL, process.cwd());
  } catch {
    return null;
  }
  const pgCode = typeof code === 'string' ? code : '';
  const unreachable = store.dialect === 'postgres' && (storeFault(error) === 'unavailable' || pgCode.startsWith('28') || pgCode === '3D000');
  const unopenable = store.dialect === 'sqlite' && pgCode.startsWith('SQLITE_CANTOPEN');
  if (!unreachable && !unopenable) return null;
  return `cannot open the store in DATABASE_URL (${describeStore(store)}): ${error.message}`;
}

async function withStore<T>(config: Config, work: (store: Store) => Promise<T>): Promise<T> {
  const [{ Metrics }, { openStore }, { migrateToLatest }] = await Promise.all([
    import('../metrics.ts'),
    import('../store/store.ts'),
    import('../store/migrate.ts'),
  ]);
  const store = openStore(config.store, new Metrics(), config);
  try {
    await migrateToLatest(store);
    return await work(store);
  } finally {
    await store.close();
  }
}

async function serve(args: string[], io: Out): Promise<number> {
  const { values } = parseFlags(args, {});
  if (values.help) return printed(io, USAGE.serve ?? '');
  const config = loadConfig();
  // A manifest that cannot be used is a bad setting: refused before the server loads or the store is touched.
  if (config.http.trustedDocuments !== null) {
    const { loadManifest } = await import('../http/trusted-documents.ts');
    loadManifest(config.http.trustedDocuments);
  }
  const [{ createLogger }, { startServer }] = await Promise.all([import('../logger.ts'), import('../server.ts')]);
  const logger = createLogger(config.log);
  const server = await startServer(config, logger);
  await untilStopped(logger);
  await server.close();
  logger.flush();
  return EXIT_OK;
}

async function migrate(args: string[], io: Out): Promise<number> {
  const { values } = parseFlags(args, {});
  if (values.help) return printed(io, USAGE.migrate ?? '');
  const config = loadConfig();
  const [{ Metrics }, { openStore }, { migrateToLatest }] = await Promise.all([
    import('../metrics.ts'),
    import('../store/store.ts'),
    import('../store/migrate.ts'),
  ]);
  const store = openStore(config.store, new Metrics(), config);
  try {
    const applied = await migrateToLatest(store);
    io.out(applied.length > 0 ? `applied ${applied.join(', ')}` : 'the store is up to date');
  } finally {
    await store.close();
  }
  return EXIT_OK;
}

async function importCommand(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parseFlags(args, {}, true);
  if (values.help) return printed(io, USAGE.import ?? '');
  if (positionals.length === 0) throw new UsageError('import needs at least one file or folder');
  const config = loadConfig();
  const { importDocuments } = await import('../importer/import-documents.ts');
  const started = Date.now();
  let lastProgress = 0;
  const report = await withStore(config, (store) =>
    importDocuments(store, positionals, {
      onProgress: (done, total) => {
        if (total < 100) return;
        const now = Date.now();
        if (done === total || now - lastProgress > 1000 || done % 500 === 0) {
          lastProgress = now;
          io.err(`imported ${done}/${total} documents (${Math.round((done / total) * 100)}%)`);
        }
      },
    }),
  );
  for (const failure of report.failed) io.err(`${failure.path}: ${failure.reason}`);
  for (const skip of report.skipped) io.err(`${skip.path}: skipped: ${skip.reason}`);
  if (report.files === 0) io.err(`found no documents (*.txt) in ${positionals.map((name) => JSON.stringify(name)).join(', ')}: nothing to import`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  io.out(
    `imported ${report.created + report.updated + report.unchanged} of ${report.files} documents in ${seconds} s: ` +
      `${report.created} new, ${report.updated} updated, ${report.unchanged} unchanged, ${report.failed.length} failed` +
      (report.skipped.length > 0 ? `, ${report.skipped.length} skipped` : ''),
  );
  return report.failed.length > 0 ? EXIT_FAILURE : EXIT_OK;
}

async function seed(args: string[], io: Out): Promise<number> {
  const { values } = parseFlags(args, {
    issues: { type: 'string' },
    authors: { type: 'string' },
    articles: { type: 'string' },
    seed: { type: 'string' },
  });
  if (values.help) return printed(io, USAGE.seed ?? '');
  const size = {
    issues: integerFlag('issues', values.issues, DEMO_CORPUS.issues, 0, 1_000_000),
    authors: integerFlag('authors', values.authors, DEMO_CORPUS.authors, 0, 1_000_000),
    articles: integerFlag('articles', values.articles, DEMO_CORPUS.articles, 0, 10_000_000),
    seed: integerFlag('seed', values.seed, DEMO_CORPUS.seed, 0, 2 ** 32 - 1),
  };
  const config = loadConfig();
  const { seedCorpus } = await import('../seed/seed.ts');
  const started = Date.now();
  let lastTenth = -1;
  const tty = process.stderr.isTTY;
  const result = await withStore(config, (store) =>
    seedCorpus(store, size, (done, total) => {
      const fraction = total === 0 ? 1 : done / total;
      if (tty) {
        const bar = '#'.repeat(Math.round(fraction * 30)).padEnd(30, '.');
        process.stderr.write(`\r[${bar}] ${done}/${total} articles${done === total ? '\n' : ''}`);
      } else if (Math.floor(fraction * 10) > lastTenth) {
        lastTenth = Math.floor(fraction * 10);
        io.err(`seeded ${done}/${total} articles (${Math.round(fraction * 100)}%)`);
      }
    }),
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  io.out(`seeded ${result.issues} issues, ${result.authors} authors, ${result.articles} articles and ${result.newsletters} newsletters in ${seconds} s`);
  return EXIT_OK;
}

const NEWSLETTER_SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Whether text holds a C0 control character or DEL (a flag's value is one line of plain text). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function textFlag(name: string, raw: string | undefined, maxLength: number): string {
  const value = raw?.trim() ?? '';
  if (value === '') throw new UsageError(`--${name} must not be empty`);
  if (value.length > maxLength) throw new UsageError(`--${name} must be at most ${maxLength} characters`);
  if (hasControlCharacter(value)) throw new UsageError(`--${name} must not contain control characters`);
  return value;
}

async function newsletter(args: string[], io: Out): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || action === '--help' || action === '-h') {
    io.out(USAGE.newsletter ?? '');
    return action === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (action === 'add') {
    const { values } = parseFlags(rest, { slug: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' } });
    if (values.help) return printed(io, USAGE.newsletter ?? '');
    const slug = values.slug?.trim() ?? '';
    if (!NEWSLETTER_SLUG.test(slug) || slug.length > 100) {
      throw new UsageError(`--slug must be lower-case letters, digits and single hyphens (at most 100), got ${JSON.stringify(values.slug ?? '')}`);
    }
    const name = textFlag('name', values.name, 200);
    const description = values.description === undefined ? null : textFlag('description', values.description, 1000);
    const config = loadConfig();
    const { insertNewsletter } = await import('../store/newsletter.repository.ts');
    const added = await withStore(config, (store) => insertNewsletter(store.db, { slug, name, description }));
    if (!added) {
      io.err(`masthead newsletter: a newsletter with the slug ${JSON.stringify(slug)} exists already`);
      return EXIT_FAILURE;
    }
    io.out(`added newsletter ${slug}: ${name}`);
    return EXIT_OK;
  }
  if (action === 'list') {
    const { values } = parseFlags(rest, { json: { type: 'boolean' } });
    if (values.help) return printed(io, USAGE.newsletter ?? '');
    const config = loadConfig();
    const [{ listNewsletters }, { countSubscribers }] = await Promise.all([
      import('../store/newsletter.repository.ts'),
      import('../store/subscription.repository.ts'),
    ]);
    const rows = await withStore(config, async (store) => {
      const [newsletters, counts] = await Promise.all([listNewsletters(store.db), countSubscribers(store.db)]);
      const byId = new Map(counts.map((c) => [c.newsletterId, c]));
      return newsletters.map((n) => {
        const c = byId.get(n.id);
        return { slug: n.slug, name: n.name, pending: c?.pending ?? 0, active: c?.active ?? 0, unsubscribed: c?.unsubscribed ?? 0 };
      });
    });
    if (values.json) {
      io.out(JSON.stringify(rows, null, 2));
      return EXIT_OK;
    }
    printTable(io, [
      ['SLUG', 'NAME', 'PENDING', 'ACTIVE', 'UNSUBSCRIBED'],
      ...rows.map((r) => [r.slug, r.name, String(r.pending), String(r.active), String(r.unsubscribed)]),
    ]);
    if (rows.length === 0) io.out('(no newsletters yet: add one with masthead newsletter add)');
    return EXIT_OK;
  }
  throw new UsageError(`unknown action ${JSON.stringify(action)}: use add or list`);
}

async function keys(args: string[], io: Out): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || action === '--help' || action === '-h') {
    io.out(USAGE.keys ?? '');
    return action === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const repository = () => import('../store/api-key.repository.ts');
  if (action === 'create') {
    const { values } = parseFlags(rest, { role: { type: 'string' }, name: { type: 'string' }, 'cost-budget': { type: 'string' } });
    if (values.help) return printed(io, USAGE.keys ?? '');
    const role = values.role;
    if (role !== 'editor' && role !== 'admin') throw new UsageError(`--role must be editor or admin, got ${JSON.stringify(role ?? '')}`);
    const name = values.name === undefined ? `${role} key` : textFlag('name', values.name, 200);
    const costBudget = values['cost-budget'] === undefined ? null : integerFlag('cost-budget', values['cost-budget'], 0, 1, 1_000_000_000);
    const config = loadConfig();
    const [{ newApiKey }, { insertApiKey }] = await Promise.all([import('../auth/api-keys.ts'), repository()]);
    const key = newApiKey();
    const id = await withStore(config, (store) => insertApiKey(store.db, { name, role, hash: key.hash, prefix: key.prefix, costBudget }));
    io.err(`created ${role} key ${id} (${name}); its secret follows, shown this once:`);
    io.out(key.secret);
    return EXIT_OK;
  }
  if (action === 'list') {
    const { values } = parseFlags(rest, { json: { type: 'boolean' } });
    if (values.help) return printed(io, USAGE.keys ?? '');
    const config = loadConfig();
    const { listApiKeys } = await repository();
    const rows = await withStore(config, (store) => listApiKeys(store.db));
    if (values.json) return printed(io, JSON.stringify(rows, null, 2));
    printTable(io, [
      ['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'REVOKED'],
      ...rows.map((k) => [String(k.id), k.name, k.role, `${k.prefix}…`, k.createdAt, k.revokedAt ?? '-']),
    ]);
    return EXIT_OK;
  }
  if (action === 'revoke') {
    const { values, positionals } = parseFlags(rest, {}, true);
    if (values.help) return printed(io, USAGE.keys ?? '');
    if (positionals.length !== 1) throw new UsageError('revoke needs one key id (see masthead keys list)');
    const id = integerFlag('id', positionals[0], 0, 1, 2 ** 31 - 1);
    const config = loadConfig();
    const { revokeApiKey } = await repository();
    const revoked = await withStore(config, (store) => revokeApiKey(store.db, id, new Date().toISOString()));
    if (!revoked) {
      io.err(`masthead keys: there is no live key ${id}`);
      return EXIT_FAILURE;
    }
    io.out(`revoked key ${id}`);
    return EXIT_OK;
  }
  throw new UsageError(`unknown action ${JSON.stringify(action)}: use create, list or revoke`);
}

async function webhooks(args: string[], io: Out): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || action === '--help' || action === '-h') {
    io.out(USAGE.webhooks ?? '');
    return action === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const repository = () => import('../store/webhook.repository.ts');
  const endpointId = (positionals: string[], verb: string) => {
    if (positionals.length !== 1) throw new UsageError(`${verb} needs one endpoint id (see masthead webhooks list)`);
    return integerFlag('id', positionals[0], 0, 1, 2 ** 31 - 1);
  };
  if (action === 'add') {
    const { values } = parseFlags(rest, { url: { type: 'string' }, events: { type: 'string' }, name: { type: 'string' } });
    if (values.help) return printed(io, USAGE.webhooks ?? '');
    if (values.url === undefined) throw new UsageError('add needs --url URL');
    const config = loadConfig();
    const { addWebhookEndpoint } = await import('../webhooks/endpoints.ts');
    const added = await withStore(config, (store) =>
      addWebhookEndpoint(store, { url: values.url ?? '', events: values.events ?? null, name: values.name ?? null }, config.webhooks.allowPrivateAddresses),
    );
    if ('errors' in added) throw new UsageError(added.errors.map((error) => `--${error.field}: ${error.message}`).join('; '));
    io.err(
      `added webhook endpoint ${added.endpoint.id} (${added.endpoint.name}) for ${added.endpoint.eventTypes.join(', ')}; its id and secret follow, the secret shown this once:`,
    );
    io.out(`id: ${added.endpoint.id}`);
    io.out(`secret: ${added.secret}`);
    return EXIT_OK;
  }
  if (action === 'list') {
    const { values } = parseFlags(rest, { json: { type: 'boolean' } });
    if (values.help) return printed(io, USAGE.webhooks ?? '');
    const config = loadConfig();
    const { listWebhookEndpoints } = await repository();
    const rows = await withStore(config, (store) => listWebhookEndpoints(store.db));
    if (values.json) return printed(io, JSON.stringify(rows, null, 2));
    printTable(io, [
      ['ID', 'NAME', 'URL', 'EVENTS', 'STATE', 'FAILURES'],
      ...rows.map((e) => [String(e.id), e.name, e.url, e.eventTypes.join(','), e.enabled ? 'on' : `off since ${e.disabledAt ?? '?'}`, String(e.failureRun)]),
    ]);
    if (rows.length === 0) io.out('(no webhook endpoints yet: add one with masthead webhooks add --url URL)');
    return EXIT_OK;
  }
  if (action === 'remove' || action === 'enable') {
    const { values, positionals } = parseFlags(rest, {}, true);
    if (values.help) return printed(io, USAGE.webhooks ?? '');
    const id = endpointId(positionals, action);
    const config = loadConfig();
    const { deleteWebhookEndpoint, enableWebhookEndpoint } = await repository();
    const done = await withStore(config, (store) => (action === 'remove' ? deleteWebhookEndpoint(store.db, id) : enableWebhookEndpoint(store.db, id)));
    if (!done) {
      io.err(`masthead webhooks: there is no endpoint ${id}`);
      return EXIT_FAILURE;
    }
    io.out(action === 'remove' ? `removed webhook endpoint ${id}` : `webhook endpoint ${id} is on`);
    return EXIT_OK;
  }
  if (action === 'deliveries') {
    const { values, positionals } = parseFlags(rest, { limit: { type: 'string' }, json: { type: 'boolean' } }, true);
    if (values.help) return printed(io, USAGE.webhooks ?? '');
    const id = endpointId(positionals, 'deliveries');
    const limit = integerFlag('limit', values.limit, 20, 1, 1000);
    const config = loadConfig();
    const { findWebhookEndpoint, listWebhookDeliveries } = await repository();
    const found = await withStore(config, async (store) => {
      const endpoint = await findWebhookEndpoint(store.db, id);
      return endpoint ? listWebhookDeliveries(store.db, id, limit) : null;
    });
    if (found === null) {
      io.err(`masthead webhooks: there is no endpoint ${id}`);
      return EXIT_FAILURE;
    }
    if (values.json) return printed(io, JSON.stringify(found, null, 2));
    printTable(io, [
      ['ID', 'EVENT', 'MESSAGE', 'STATUS', 'ATTEMPTS', 'LAST ATTEMPT', 'HTTP', 'MS', 'ERROR'],
      ...found.map((d) => [
        String(d.id),
        d.eventType,
        d.messageId,
        d.status,
        String(d.attempts),
        d.lastAttemptAt ?? '-',
        d.lastStatus === null ? '-' : String(d.lastStatus),
        d.lastDurationMs === null ? '-' : String(d.lastDurationMs),
        (d.lastError ?? '').replace(/\s+/g, ' ').slice(0, 80),
      ]),
    ]);
    if (found.length === 0) io.out('(no deliveries yet)');
    return EXIT_OK;
  }
  throw new UsageError(`unknown action ${JSON.stringify(action)}: use add, list, remove, enable or deliveries`);
}

/** Columns padded to their widest cell; numbers right-aligned. */
function printTable(io: Out, table: string[][]): void {
  const widths = table[0]?.map((_, column) => Math.max(...table.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of table) {
    io.out(
      row
        .map((cell, column) => (/^\d+$/.test(cell) && column > 0 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    );
  }
}

const COMMANDS: Record<string, (args: string[], io: Out) => Promise<number>> = {
  serve,
  migrate,
  import: importCommand,
  seed,
  newsletter,
  keys,
  webhooks,
  gateway,
  compose,
};

/** Runs a command line and returns its exit status: 0 done, 1 failed, 2 bad usage or settings. */
export async function main(argv: string[], io: Out = { out: console.log, err: console.error }): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out(USAGE.main ?? '');
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.err(`masthead: unknown command ${JSON.stringify(command)}\n\n${USAGE.main}`);
    return EXIT_USAGE;
  }
  try {
    return await run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`masthead ${command}: ${error.message}\n\n${USAGE[command]}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      io.err(`masthead: ${error.message}`);
      return EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(`masthead ${command}: ${settingAtFault(error) ?? message}`);
    return EXIT_FAILURE;
  }
}
