import type { Kysely } from 'kysely';
import type { Database } from './database.ts';
import { toIsoOrNull } from './model.ts';

export interface ContentState {
  /** Counts every write to public content (kept by triggers; see the content-version migration). */
  version: number;
  /** When the next published piece's time comes, and with it what the public sees; null when none waits. */
  nextPublication: string | null;
}

/** What public answers depend on besides the request: one statement, two index lookups. */
export async function readContentState(db: Kysely<Database>, now: string): Promise<ContentState> {
  const row = await db
    .selectFrom('totals')
    .select((eb) => [
      'totals.value',
      eb
        .selectFrom('articles')
        .select((inner) => inner.fn.min('articles.published_at').as('next'))
        .where('articles.status', '=', 'published')
        .where('articles.published_at', '>', now)
        .as('next_publication'),
    ])
    .where('totals.name', '=', 'content_version')
    .executeTakeFirstOrThrow();
  return { version: Number(row.value), nextPublication: toIsoOrNull(row.next_publication ?? null) };
}
