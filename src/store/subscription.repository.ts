import type { Kysely } from 'kysely';
import type { Database, SubscriptionRow } from './database.ts';
import { type Subscription, toIso, toIsoOrNull } from './model.ts';

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    newsletterId: row.newsletter_id,
    email: row.email,
    status: row.status,
    createdAt: toIso(row.created_at),
    confirmedAt: toIsoOrNull(row.confirmed_at),
  };
}

/**
 * The reader's subscription to the newsletter: created PENDING if there is none, else the one
 * there is. The unique (newsletter, e-mail) key makes concurrent calls converge on one row.
 */
export async function ensureSubscription(
  db: Kysely<Database>,
  input: { newsletterId: number; email: string; now: string },
): Promise<Subscription> {
  await db
    .insertInto('subscriptions')
    .values({ newsletter_id: input.newsletterId, email: input.email, status: 'pending', created_at: input.now })
    .onConflict((oc) => oc.columns(['newsletter_id', 'email']).doNothing())
    .execute();
  const row = await db
    .selectFrom('subscriptions')
    .selectAll()
    .where('newsletter_id', '=', input.newsletterId)
    .where('email', '=', input.email)
    .executeTakeFirstOrThrow();
  return toSubscription(row);
}

export async function findSubscriptionByConfirmTokenHash(
  db: Kysely<Database>,
  hash: string,
): Promise<Subscription | null> {
  const row = await db.selectFrom('subscriptions').selectAll().where('confirm_token_hash', '=', hash).executeTakeFirst();
  return row ? toSubscription(row) : null;
}

export async function findSubscriptionByUnsubscribeTokenHash(
  db: Kysely<Database>,
  hash: string,
): Promise<Subscription | null> {
  const row = await db
    .selectFrom('subscriptions')
    .selectAll()
    .where('unsubscribe_token_hash', '=', hash)
    .executeTakeFirst();
  return row ? toSubscription(row) : null;
}

export async function findSubscriptionsByIds(db: Kysely<Database>, ids: readonly number[]): Promise<Subscription[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('subscriptions').selectAll().where('id', 'in', ids).execute();
  return rows.map(toSubscription);
}
