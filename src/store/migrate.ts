import { type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as initial from './migrations/2026-11-25T00-initial.ts';
import * as scale from './migrations/2026-11-25T01-scale.ts';
import * as signUps from './migrations/2026-11-25T02-sign-ups.ts';
import * as apiKeys from './migrations/2026-11-25T03-api-keys.ts';
import * as contentVersion from './migrations/2026-11-25T04-content-version.ts';
import * as storeIdentity from './migrations/2026-12-02T00-store-identity.ts';
import * as totalsContentVersion from './migrations/2026-12-02T00-totals-content-version.ts';
import * as contentVersionNotify from './migrations/2026-12-02T01-content-version-notify.ts';
import * as newsletterOrigin from './migrations/2026-12-02T01-newsletter-origin.ts';
import * as changeFeed from './migrations/2026-12-02T02-change-feed.ts';
import * as webhooks from './migrations/2026-12-02T03-webhooks.ts';
import * as sqlitePlanSamples from './migrations/2026-12-07T00-sqlite-plan-samples.ts';
import type { Store } from './store.ts';

/** Every migration, by name; names sort in the order they apply. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '2026-11-25T00-initial': initial,
  '2026-11-25T01-scale': scale,
  '2026-11-25T02-sign-ups': signUps,
  '2026-11-25T03-api-keys': apiKeys,
  '2026-11-25T04-content-version': contentVersion,
  '2026-12-02T00-store-identity': storeIdentity,
  '2026-12-02T00-totals-content-version': totalsContentVersion,
  '2026-12-02T01-content-version-notify': contentVersionNotify,
  '2026-12-02T01-newsletter-origin': newsletterOrigin,
  '2026-12-02T02-change-feed': changeFeed,
  '2026-12-02T03-webhooks': webhooks,
  '2026-12-07T00-sqlite-plan-samples': sqlitePlanSamples,
};

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/**
 * Brings the store's schema up to date. Each run is one transaction, so a failing migration
 * leaves the store as it was. Several processes may call this at once: PostgreSQL serialises
 * them with Kysely's advisory lock; on SQLite a process that loses the race for the write lock
 * retries, finds the work done, and applies nothing.
 */
export async function migrateToLatest(store: Store, migrations: Readonly<Record<string, Migration>> = MIGRATIONS): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => ({ ...migrations }) };
  const migrator = new Migrator({ db: store.db, provider });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (!isBusy(error) || attempt >= 50) throw error;
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
  }
}
