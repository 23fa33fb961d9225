// What the runner (and the peers' test) pick from a seeded store to ask about, and how answers
// are compared.
import type { Store } from '../src/store/store.ts';
import type { Subjects } from './workloads.ts';

/**
 * The workloads' subjects: an issue whose public pieces number the corpus's articles ÷ issues
 * (15 on the demo corpus; the middle one of those), the author with the most pieces, the first
 * newsletter.
 */
export async function pickSubjects(store: Store): Promise<Subjects> {
  const { db } = store;
  const sizes = await db
    .selectFrom('issues')
    .innerJoin('articles', 'articles.issue_id', 'issues.id')
    .where('articles.status', '=', 'published')
    .where('articles.published_at', '<=', new Date().toISOString())
    .select(['issues.number', (eb) => eb.fn.countAll<number>().as('pieces')])
    .groupBy('issues.number')
    .orderBy('issues.number')
    .execute();
  const count = async (table: 'articles' | 'issues') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const average = Math.round((await count('articles')) / (await count('issues')));
  const distance = (row: { pieces: number }) => Math.abs(Number(row.pieces) - average);
  const closest = Math.min(...sizes.map(distance));
  const candidates = sizes.filter((row) => distance(row) === closest);
  const issue = candidates[Math.floor(candidates.length / 2)];
  if (!issue) throw new Error('the corpus has no issue with pieces in it');
  const author = await db.selectFrom('authors').select('slug').orderBy('article_count', 'desc').orderBy('id').limit(1).executeTakeFirstOrThrow();
  const newsletter = await db.selectFrom('newsletters').select('slug').orderBy('id').limit(1).executeTakeFirstOrThrow();
  return { issueNumber: issue.number, authorSlug: author.slug, newsletterSlug: newsletter.slug };
}

/**
 * An answer in one canonical spelling, so that two servers' answers compare as text: its data
 * and errors. `extensions` is each server's own report on the request (Masthead's query cost).
 */
export const canonical = (text: string) => {
  const { data, errors } = JSON.parse(text) as { data?: unknown; errors?: unknown };
  return JSON.stringify({ data, errors });
};
