import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { isPublic } from './article.repository.ts';
import { runCompiled } from './compiled-statements.ts';
import type { Database } from './database.ts';
import { readInBatches } from './key-batches.ts';
import type { Newsletter } from './model.ts';

const newsletterColumns = ['newsletters.id', 'newsletters.slug', 'newsletters.name', 'newsletters.description'] as const;

/**
 * A newsletter is public when an editor made it, or, when an import made it from a piece's
 * promotion line, once a piece that promotes it is public: an embargoed piece's newsletter
 * comes out with the piece.
 */
function isPublicNewsletter(now: string) {
  return (eb: ExpressionBuilder<Database, 'newsletters'>) =>
    eb.or([
      eb('newsletters.origin', '=', 'editor'),
      eb.exists(eb.selectFrom('articles').select(sql`1`.as('one')).whereRef('articles.promoted_newsletter_id', '=', 'newsletters.id').where(isPublic(now))),
    ]);
}

// Each reader below takes `publicAt`: given, only the newsletters public at that time (what the
// graph shows); omitted, every newsletter (for editors, and for mail to those signed up).

export async function listNewsletters(db: Kysely<Database>, publicAt?: string): Promise<Newsletter[]> {
  return db
    .selectFrom('newsletters')
    .select(newsletterColumns)
    .$if(publicAt !== undefined, (q) => q.where(isPublicNewsletter(publicAt ?? '')))
    .orderBy('newsletters.name')
    .orderBy('newsletters.id')
    .execute();
}

export async function findNewslettersByIds(db: Kysely<Database>, ids: readonly number[], publicAt?: string): Promise<Newsletter[]> {
  return readInBatches(ids, (batch) =>
    db
      .selectFrom('newsletters')
      .select(newsletterColumns)
      .where('newsletters.id', 'in', batch)
      .$if(publicAt !== undefined, (q) => q.where(isPublicNewsletter(publicAt ?? '')))
      .execute(),
  );
}

export async function findNewslettersBySlugs(db: Kysely<Database>, slugs: readonly string[], publicAt?: string): Promise<Newsletter[]> {
  return readInBatches(slugs, (batch) =>
    db
      .selectFrom('newsletters')
      .select(newsletterColumns)
      .where('newsletters.slug', 'in', batch)
      .$if(publicAt !== undefined, (q) => q.where(isPublicNewsletter(publicAt ?? '')))
      .execute(),
  );
}

export async function findNewsletterBySlug(db: Kysely<Database>, slug: string, publicAt?: string): Promise<Newsletter | null> {
  // NUL names nothing, and PostgreSQL refuses it in text.
  if (slug.includes('\u0000')) return null;
  const publicOnly = publicAt !== undefined;
  // Every sign-up starts here: compiled once, as the loaders' reads are (see runCompiled).
  const [row] = await runCompiled(db, `newsletter-by-slug:${publicOnly}`, [slug, publicAt], (value) =>
    db
      .selectFrom('newsletters')
      .select(newsletterColumns)
      .where('newsletters.slug', '=', value<string>(0))
      .$if(publicOnly, (q) => q.where(isPublicNewsletter(value<string>(1)))),
  );
  return row ?? null;
}

/**
 * The newsletter that a piece's promotion line names, created (as an import's) if new; an
 * existing one keeps its name and origin and gains a missing description.
 */
export async function upsertNewsletter(db: Kysely<Database>, newsletter: { slug: string; name: string; description: string | null }): Promise<number> {
  await db
    .insertInto('newsletters')
    .values({ ...newsletter, origin: 'import' })
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

/** Adds an editor's newsletter, public at once; false when one with this slug exists already (it is left as it is). */
export async function insertNewsletter(db: Kysely<Database>, newsletter: { slug: string; name: string; description: string | null }): Promise<boolean> {
  const inserted = await db
    .insertInto('newsletters')
    .values({ ...newsletter, origin: 'editor' })
    .onConflict((oc) => oc.column('slug').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}
