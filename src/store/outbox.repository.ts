import type { Kysely } from 'kysely';
import type { Database, OutboxKind } from './database.ts';

export interface ClaimedMessage {
  id: number;
  kind: OutboxKind;
  /** Attempts so far, this one included. */
  attempts: number;
  subscriptionId: number;
}

/**
 * Queues a message unless one to the sign-up still waits to go out, returning its id if it
 * queued one: a statement to run after locking the sign-up, so that the check and the insert go
 * together (see recordSignUp).
 */
export function insertMessageUnlessPending(db: Kysely<Database>, message: { subscriptionId: number; kind: OutboxKind; now: string }) {
  return db
    .insertInto('outbox')
    .columns(['subscription_id', 'kind', 'created_at', 'next_attempt_at'])
    .expression(
      db
        .selectNoFrom((eb) => [
          eb.val(message.subscriptionId).as('subscription_id'),
          eb.val(message.kind).as('kind'),
          eb.val(message.now).as('created_at'),
          eb.val(message.now).as('next_attempt_at'),
        ])
        .where(({ exists, not, selectFrom }) =>
          not(exists(selectFrom('outbox').select('id').where('subscription_id', '=', message.subscriptionId).where('status', '=', 'pending'))),
        ),
    )
    .returning('id');
}

/** Cancels the messages not yet sent: after an unsubscribe, no confirmation goes out. */
export async function cancelPendingMessages(db: Kysely<Database>, subscriptionId: number): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ status: 'cancelled', locked_until: null })
    .where('subscription_id', '=', subscriptionId)
    .where('status', '=', 'pending')
    .execute();
}

/** Ids of pending messages due by `now` and not held by a sender, oldest first. */
export async function findDueMessageIds(db: Kysely<Database>, now: string, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('outbox')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Claims a message for one attempt until `lockedUntil`. The conditional update is atomic, so
 * of several senders (instances) only one wins; a sender that dies holding it lets it go when
 * the lease runs out, and another retries.
 */
export async function claimMessage(db: Kysely<Database>, id: number, now: string, lockedUntil: string): Promise<ClaimedMessage | null> {
  const claimed = await db
    .updateTable('outbox')
    .set((eb) => ({ locked_until: lockedUntil, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .returning(['id', 'kind', 'attempts', 'subscription_id'])
    .executeTakeFirst();
  return claimed ? { id: claimed.id, kind: claimed.kind, attempts: claimed.attempts, subscriptionId: claimed.subscription_id } : null;
}

export async function markMessageSent(db: Kysely<Database>, id: number, now: string, messageId: string | null): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ status: 'sent', sent_at: now, message_id: messageId, locked_until: null, last_error: null })
    .where('id', '=', id)
    .execute();
}

export async function markMessageRetry(db: Kysely<Database>, id: number, nextAttemptAt: string, error: string): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ next_attempt_at: nextAttemptAt, locked_until: null, last_error: error })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

export async function markMessageDone(db: Kysely<Database>, id: number, status: 'failed' | 'cancelled', reason: string): Promise<void> {
  await db.updateTable('outbox').set({ status, locked_until: null, last_error: reason }).where('id', '=', id).execute();
}
