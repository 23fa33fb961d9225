import type { Viewer } from './auth/api-keys.ts';
import type { Config } from './config.ts';
import type { LiveSession } from './live/live-hub.ts';
import { createLoaders, type LoaderOptions, type Loaders } from './loaders/loaders.ts';
import type { SignUpServices } from './sign-ups/sign-ups.ts';
import type { Store } from './store/store.ts';

/** Who sent the request, as far as the server can tell. */
export interface Client {
  /** The client's IP address (through trusted proxies, see TRUST_PROXY_HOPS); null when unknown. */
  address: string | null;
  userAgent: string | null;
}

export interface Context {
  store: Store;
  config: Config;
  loaders: Loaders;
  signUps: SignUpServices;
  client: Client;
  viewer: Viewer;
  /** The request's clock: one instant for every visibility check in the request (a stream's: each event's). */
  now: string;
  /** A subscription stream's reading of the change feed; set by the listener on streams only. */
  live?: LiveSession;
}

/** Built once per request and never copied, so every resolver shares the same loader caches. */
export function createContext(
  store: Store,
  config: Config,
  signUps: SignUpServices,
  client: Client,
  viewer: Viewer,
  loaderOptions: LoaderOptions = {},
): Context {
  const now = new Date().toISOString();
  // Editors and admins preview: an article by id or slug, drafts and scheduled pieces included.
  const preview = viewer.role !== 'anonymous';
  return { store, config, now, signUps, client, viewer, loaders: createLoaders(store, now, { ...loaderOptions, preview }) };
}
