import type { Config } from './config.ts';
import { listen } from './http/listen.ts';
import type { Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { loadDemoContentIfEmpty } from './seed/demo.ts';
import { migrateToLatest } from './store/migrate.ts';
import { openStore, type Store } from './store/store.ts';
import { createMastheadYoga } from './yoga.ts';

export interface RunningServer {
  url: string;
  store: Store;
  close(): Promise<void>;
}

/** Opens and migrates the store, loads the demo corpus where configured, and listens. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const metrics = new Metrics();
  const store = openStore(config.store, metrics, config);
  try {
    const applied = await migrateToLatest(store);
    if (applied.length > 0) logger.info(`store migrated: ${applied.join(', ')}`);
    if (config.demoContent) {
      const loaded = await loadDemoContentIfEmpty(store);
      if (loaded) logger.info(`the store was empty: loaded the demo corpus (${loaded.articles} articles)`);
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  const yoga = createMastheadYoga({ store, config, metrics, logger });
  const listening = await listen(yoga, config.port, config.host);
  const { url } = listening;
  logger.info(`Masthead serves ${url}/graphql on ${store.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`);
  return {
    url,
    store,
    close: async () => {
      await listening.close();
      await store.close();
    },
  };
}
