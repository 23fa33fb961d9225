import type { Kysely } from 'kysely';
import type { Database } from './database.ts';
import { readInBatches } from './key-batches.ts';
import type { Newsletter } from './model.ts';

const newsletterColumns = ['newsletters.id', 'newsletters.slug', 'newsletters.name', 'newsletters.description'] as const;

export async function listNewsletters(db: Kysely<Database>): Promise<Newsletter[]> {
  return db.selectFrom('newsletters').select(newsletterColumns).orderBy('newsletters.name').orderBy('newsletters.id').execute();
}

export async function findNewslettersByIds(db: Kysely<Database>, ids: readonly number[]): Promise<Newsletter[]> {
  return readInBatches(ids, (batch) => db.selectFrom('newsletters').select(newsletterColumns).where('newsletters.id', 'in', batch).execute());
}

export async function findNewslettersBySlugs(db: Kysely<Database>, slugs: readonly string[]): Promise<Newsletter[]> {
  return readInBatches(slugs, (batch) => db.selectFrom('newsletters').select(newsletterColumns).where('newsletters.slug', 'in', batch).execute());
}

export async function findNewsletterBySlug(db: Kysely<Database>, slug: string): Promise<Newsletter | null> {
  // NUL names nothing, and PostgreSQL refuses it in text.
  if (slug.includes('\u0000')) return null;
  const row = await db.selectFrom('newsletters').select(newsletterColumns).where('newsletters.slug', '=', slug).executeTakeFirst();
  return row ?? null;
}

/** The newsletter with this slug, created if new; an existing one keeps its name and gains a missing description. */
export async function upsertNewsletter(db: Kysely<Database>, newsletter: { slug: string; name: string; description: string | null }): Promise<number> {
  await db
    .insertInto('newsletters')
    .values(newsletter)
    .onConflict((oc) => oc.column('slug').doNothing())
    .execute();
  if (newsletter.description !== null) {
    await db
      .updateTable('newsletters')
      .set({ description: newsletter.description })
      .where('slug', '=', newsletter.slug)
      .where('description', 'is', null)
      .execute();
  }
  const row = await db.selectFrom('newsletters').select('id').where('slug', '=', newsletter.slug).executeTakeFirstOrThrow();
  return row.id;
}

/** Adds a newsletter; false when one with this slug exists already (it is left as it is). */
export async function insertNewsletter(db: Kysely<Database>, newsletter: { slug: string; name: string; description: string | null }): Promise<boolean> {
  const inserted = await db
    .insertInto('newsletters')
    .values(newsletter)
    .onConflict((oc) => oc.column('slug').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}
