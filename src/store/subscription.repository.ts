import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { runCompiled, type ValueAt } from './compiled-statements.ts';
import type { Database, NewConsent, OutboxKind, SubscriptionRow, SubscriptionStatus, SubscriptionTokenRow, TokenPurpose } from './database.ts';
import { readInBatches } from './key-batches.ts';
import { type Subscription, toIso, toIsoOrNull } from './model.ts';
import { insertMessageUnlessPending } from './outbox.repository.ts';
import type { Dialect } from './store.ts';

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    publicId: row.public_id,
    newsletterId: row.newsletter_id,
    email: row.email,
    status: row.status,
    createdAt: toIso(row.created_at),
    confirmedAt: toIsoOrNull(row.confirmed_at),
  };
}

/**
 * Takes the row lock that serialises every change to one sign-up: PostgreSQL's row lock, or
 * on SQLite the database's write lock (a no-op write), so that a transaction never upgrades
 * from reading to writing halfway. Call it first in a transaction.
 */
async function lockedSubscriptionRow(
  db: Kysely<Database>,
  where: { id: number } | { newsletterId: number; email: string },
): Promise<SubscriptionRow | undefined> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (!pg) {
    let update = db.updateTable('subscriptions').set({ status: sql<SubscriptionStatus>`status` });
    update = 'id' in where ? update.where('id', '=', where.id) : update.where('newsletter_id', '=', where.newsletterId).where('email', '=', where.email);
    await update.execute();
  }
  let select = db.selectFrom('subscriptions').selectAll();
  select = 'id' in where ? select.where('id', '=', where.id) : select.where('newsletter_id', '=', where.newsletterId).where('email', '=', where.email);
  return (pg ? select.forUpdate() : select).executeTakeFirst();
}

/**
 * The reader's subscription to the newsletter, created PENDING if there is none, and locked
 * for the rest of the transaction, in one statement. The unique (newsletter, e-mail) key makes
 * concurrent sign-ups converge on one row; the upsert's no-op update of a row already there
 * locks it as lockedSubscriptionRow would (PostgreSQL's row lock; SQLite's write lock, which any
 * write takes), so they take turns deciding what to send. The row comes back whichever way.
 */
export async function lockOrCreateSubscription(
  db: Kysely<Database>,
  input: { newsletterId: number; email: string; publicId: string; now: string },
): Promise<{ subscription: Subscription; created: boolean }> {
  const [row] = await runCompiled(db, 'lock-or-create-subscription', [input.publicId, input.newsletterId, input.email, input.now], (value) =>
    db
      .insertInto('subscriptions')
      .values({
        public_id: value<string>(0),
        newsletter_id: value<number>(1),
        email: value<string>(2),
        status: 'pending',
        created_at: value<string>(3),
      })
      .onConflict((oc) => oc.columns(['newsletter_id', 'email']).doUpdateSet({ status: (eb) => eb.ref('subscriptions.status') }))
      .returningAll(),
  );
  if (!row) throw new Error(`subscription of newsletter ${input.newsletterId} vanished while signing up`);
  // Public ids are random: the row has the one given only if this statement made it.
  return { subscription: toSubscription(row), created: row.public_id === input.publicId };
}

export async function lockSubscription(db: Kysely<Database>, id: number): Promise<Subscription | null> {
  const row = await lockedSubscriptionRow(db, { id });
  return row ? toSubscription(row) : null;
}

/** Moves a sign-up to `status`, stamping when; returns it as it now stands. */
export async function setSubscriptionStatus(db: Kysely<Database>, id: number, status: SubscriptionStatus, now: string): Promise<Subscription> {
  const row = await db
    .updateTable('subscriptions')
    .set(
      status === 'active'
        ? { status, confirmed_at: now, unsubscribed_at: null }
        : status === 'unsubscribed'
          ? { status, unsubscribed_at: now }
          : { status, confirmed_at: null },
    )
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSubscription(row);
}

export async function findSubscriptionById(db: Kysely<Database>, id: number): Promise<Subscription | null> {
  const row = await db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toSubscription(row) : null;
}

export async function findSubscriptionsByPublicIds(db: Kysely<Database>, publicIds: readonly string[]): Promise<Subscription[]> {
  const rows = await readInBatches(publicIds, (batch) => db.selectFrom('subscriptions').selectAll().where('public_id', 'in', batch).execute());
  return rows.map(toSubscription);
}

export async function insertTokens(
  db: Kysely<Database>,
  tokens: ReadonlyArray<{ hash: string; subscriptionId: number; purpose: TokenPurpose; now: string; expiresAt: string }>,
): Promise<void> {
  if (tokens.length === 0) return;
  await db
    .insertInto('subscription_tokens')
    .values(
      tokens.map((t) => ({
        token_hash: t.hash,
        subscription_id: t.subscriptionId,
        purpose: t.purpose,
        created_at: t.now,
        expires_at: t.expiresAt,
      })),
    )
    .execute();
}

export interface StoredToken {
  subscriptionId: number;
  purpose: TokenPurpose;
  expiresAt: string;
  usedAt: string | null;
}

function toStoredToken(row: SubscriptionTokenRow): StoredToken {
  return {
    subscriptionId: row.subscription_id,
    purpose: row.purpose,
    expiresAt: toIso(row.expires_at),
    usedAt: toIsoOrNull(row.used_at),
  };
}

export async function findToken(db: Kysely<Database>, hash: string): Promise<StoredToken | null> {
  const row = await db.selectFrom('subscription_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  return row ? toStoredToken(row) : null;
}

/** Spends a single-use token; false when it was spent (or revoked) already. */
export async function spendToken(db: Kysely<Database>, hash: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('subscription_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Deletes the confirmation tokens not yet spent: after an unsubscribe, no old link may confirm. */
export async function revokeConfirmTokens(db: Kysely<Database>, subscriptionId: number): Promise<void> {
  await db
    .deleteFrom('subscription_tokens')
    .where('subscription_id', '=', subscriptionId)
    .where('purpose', '=', 'confirm')
    .where('used_at', 'is', null)
    .execute();
}

/**
 * Records a sign-up's consent and queues its message unless one to it still waits to go out
 * (that one says all there is to say); whether it queued one. Call it in the transaction that
 * locked the sign-up. On PostgreSQL one statement, both inserts in a WITH: a round trip costs a
 * sign-up more than either insert. SQLite allows no writes in a WITH: two statements there.
 */
export async function recordSignUp(
  db: Kysely<Database>,
  dialect: Dialect,
  consent: Omit<NewConsent, 'id'>,
  message: { kind: OutboxKind; now: string },
): Promise<boolean> {
  const { subscription_id, recorded_at, source, wording_version, client_address = null, user_agent = null } = consent;
  const values = [subscription_id, message.kind, message.now, recorded_at, source, wording_version, client_address, user_agent];
  const build = (value: ValueAt) => ({
    consent: db.insertInto('consents').values({
      subscription_id: value<number>(0),
      recorded_at: value<string>(3),
      source: value<string>(4),
      wording_version: value<string>(5),
      client_address: value<string | null>(6),
      user_agent: value<string | null>(7),
    }),
    message: insertMessageUnlessPending(db, { subscriptionId: value<number>(0), kind: value<OutboxKind>(1), now: value<string>(2) }),
  });
  if (dialect === 'postgres') {
    const queued = await runCompiled(db, 'record-sign-up', values, (value) => {
      const { consent, message } = build(value);
      return db
        .with('consent', () => consent)
        .with('queued', () => message)
        .selectFrom('queued')
        .select('id');
    });
    return queued.length > 0;
  }
  await runCompiled(db, 'record-consent', values, (value) => build(value).consent);
  const queued = await runCompiled(db, 'queue-message-unless-pending', values, (value) => build(value).message);
  return queued.length > 0;
}

export interface SubscriberCounts {
  newsletterId: number;
  pending: number;
  active: number;
  unsubscribed: number;
}

/** Sign-ups per newsletter and status, for editors: one row per newsletter that has any (of `newsletterIds`, if given). */
export async function countSubscribers(db: Kysely<Database>, newsletterIds?: readonly number[]): Promise<SubscriberCounts[]> {
  const counts = (batch: readonly number[] | undefined) =>
    db
      .selectFrom('subscriptions')
      .select(['newsletter_id', 'status', (eb) => eb.fn.countAll<number>().as('count')])
      .$if(batch !== undefined, (q) => q.where('newsletter_id', 'in', batch ?? []))
      .groupBy(['newsletter_id', 'status'])
      .execute();
  const rows = newsletterIds === undefined ? await counts(undefined) : await readInBatches(newsletterIds, counts);
  const byNewsletter = new Map<number, SubscriberCounts>();
  for (const row of rows) {
    const counts = byNewsletter.get(row.newsletter_id) ?? { newsletterId: row.newsletter_id, pending: 0, active: 0, unsubscribed: 0 };
    counts[row.status] = Number(row.count);
    byNewsletter.set(row.newsletter_id, counts);
  }
  return [...byNewsletter.values()];
}

/** A newsletter's sign-ups, oldest first, for admins: one page after the sign-up with id `afterId`. */
export async function listSubscriptions(
  db: Kysely<Database>,
  filter: { newsletterId: number; status: SubscriptionStatus | null },
  window: { limit: number; afterId: number | null },
): Promise<Subscription[]> {
  const rows = await db
    .selectFrom('subscriptions')
    .selectAll()
    .where('newsletter_id', '=', filter.newsletterId)
    .$if(filter.status !== null, (q) => q.where('status', '=', filter.status ?? 'pending'))
    .$if(window.afterId !== null, (q) => q.where('id', '>', window.afterId ?? 0))
    .orderBy('id')
    .limit(window.limit)
    .execute();
  return rows.map(toSubscription);
}

export async function countSubscriptions(db: Kysely<Database>, filter: { newsletterId: number; status: SubscriptionStatus | null }): Promise<number> {
  const row = await db
    .selectFrom('subscriptions')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('newsletter_id', '=', filter.newsletterId)
    .$if(filter.status !== null, (q) => q.where('status', '=', filter.status ?? 'pending'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
