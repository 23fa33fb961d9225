import { type Config, ConfigError, loadConfig } from '../config.ts';
import { DEMO_CORPUS } from '../seed/demo-corpus.ts';
import type { Store } from '../store/store.ts';
import { COMPOSE_USAGE, compose, GATEWAY_USAGE, gateway } from './gateway-commands.ts';
import { untilStopped } from './signals.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, integerFlag, parseFlags, UsageError } from './usage.ts';

// Commands load what they use when they run: `--help` and a bad setting answer at once, and
// only `serve` pays for loading the GraphQL server.


/** An error whose message is meant for the user as it stands: no stack, exit 1. */
function isUserFacing(error: unknown): error is Error {
  return error instanceof Error && (error.name === 'StoreNotEmptyError' || error.name === 'DocumentError');
}

const USAGE: Record<string, string> = {
  main: `Usage: masthead <command> [options]

Commands:
  serve            Serve the graph on /graphql (migrates the store first)
  migrate          Bring the store's schema up to date
  import PATH...   Import article documents from files or folders (*.txt)
  seed             Fill an empty store with a synthetic corpus
  gateway          Serve Masthead composed with other Federation subgraphs
  compose          Print the supergraph SDL of Masthead and other subgraphs

Run 'masthead <command> --help' for a command's options. Settings come from the
environment: PORT, HOST, DATABASE_URL, DEMO_CONTENT, MAX_PAGE_SIZE (see the README).`,
  serve: `Usage: masthead serve

Serves GraphQL on http://HOST:PORT/graphql with GraphiQL, plus /healthz, /readyz and
/metrics. Migrates the store first and, when DEMO_CONTENT=1 and the store is empty,
loads the demo corpus. Stops cleanly on SIGTERM or SIGINT.`,
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
  gateway: GATEWAY_USAGE,
  compose: COMPOSE_USAGE,
};

type Out = { out: (text: string) => void; err: (text: string) => void };

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
  if (values.help) return (io.out(USAGE.serve ?? ''), EXIT_OK);
  const config = loadConfig();
  const [{ createLogger }, { startServer }] = await Promise.all([import('../logger.ts'), import('../server.ts')]);
  const logger = createLogger();
  const server = await startServer(config, logger);
  await untilStopped(logger);
  await server.close();
  return EXIT_OK;
}

async function migrate(args: string[], io: Out): Promise<number> {
  const { values } = parseFlags(args, {});
  if (values.help) return (io.out(USAGE.migrate ?? ''), EXIT_OK);
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
  if (values.help) return (io.out(USAGE.import ?? ''), EXIT_OK);
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
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  io.out(
    `imported ${report.created + report.updated + report.unchanged} of ${report.files} documents in ${seconds} s: ` +
      `${report.created} new, ${report.updated} updated, ${report.unchanged} unchanged, ${report.failed.length} failed`,
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
  if (values.help) return (io.out(USAGE.seed ?? ''), EXIT_OK);
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
  io.out(
    `seeded ${result.issues} issues, ${result.authors} authors, ${result.articles} articles and ${result.newsletters} newsletters in ${seconds} s`,
  );
  return EXIT_OK;
}

const COMMANDS: Record<string, (args: string[], io: Out) => Promise<number>> = {
  serve,
  migrate,
  import: importCommand,
  seed,
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
    if (isUserFacing(error)) {
      io.err(`masthead ${command}: ${error.message}`);
      return EXIT_FAILURE;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(`masthead ${command}: ${message}`);
    return EXIT_FAILURE;
  }
}
