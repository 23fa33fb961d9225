import type { Config } from './config.ts';
import { createLoaders, type Loaders } from './loaders/loaders.ts';
import type { Store } from './store/store.ts';

export interface Context {
  store: Store;
  config: Config;
  loaders: Loaders;
  /** The request's clock: one instant for every visibility check in the request. */
  now: string;
}

/** Built once per request and never copied, so every resolver shares the same loader caches. */
export function createContext(store: Store, config: Config): Context {
  const now = new Date().toISOString();
  return { store, config, now, loaders: createLoaders(store, now) };
}
