import { type Kysely, sql } from 'kysely';
import type { Database, WebhookDeliveryStatus } from './database.ts';
import { toIso, toIsoOrNull } from './model.ts';

export interface WebhookEndpoint {
  id: number;
  name: string;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  failureRun: number;
  disabledAt: string | null;
  disabledReason: string | null;
  createdAt: string;
}

/** An endpoint with its secret: what the delivery worker signs with. */
export interface SigningEndpoint extends WebhookEndpoint {
  secret: string;
}

export interface WebhookDelivery {
  id: number;
  endpointId: number;
  messageId: string;
  eventType: string;
  feedSeq: number;
  status: WebhookDeliveryStatus;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastDurationMs: number | null;
  lastError: string | null;
  deliveredAt: string | null;
}

/** A delivery claimed for one attempt, with what it sends. */
export interface ClaimedDelivery extends WebhookDelivery {
  payload: string;
}

const endpointColumns = ['id', 'name', 'url', 'event_types', 'enabled', 'failure_run', 'disabled_at', 'disabled_reason', 'created_at'] as const;

type EndpointRow = {
  id: number;
  name: string;
  url: string;
  event_types: string;
  enabled: number;
  failure_run: number;
  disabled_at: Date | string | null;
  disabled_reason: string | null;
  created_at: Date | string;
};

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    eventTypes: row.event_types.split(',').filter((type) => type !== ''),
    enabled: Number(row.enabled) === 1,
    failureRun: row.failure_run,
    disabledAt: toIsoOrNull(row.disabled_at),
    disabledReason: row.disabled_reason,
    createdAt: toIso(row.created_at),
  };
}

export async function insertWebhookEndpoint(
  db: Kysely<Database>,
  endpoint: { name: string; url: string; eventTypes: readonly string[]; secret: string },
): Promise<WebhookEndpoint> {
  const row = await db
    .insertInto('webhook_endpoints')
    .values({ name: endpoint.name, url: endpoint.url, event_types: endpoint.eventTypes.join(','), secret: endpoint.secret })
    .returning(endpointColumns)
    .executeTakeFirstOrThrow();
  return toEndpoint(row);
}

export async function listWebhookEndpoints(db: Kysely<Database>): Promise<WebhookEndpoint[]> {
  const rows = await db.selectFrom('webhook_endpoints').select(endpointColumns).orderBy('id').execute();
  return rows.map(toEndpoint);
}

export async function findWebhookEndpoint(db: Kysely<Database>, id: number): Promise<WebhookEndpoint | null> {
  const row = await db.selectFrom('webhook_endpoints').select(endpointColumns).where('id', '=', id).executeTakeFirst();
  return row ? toEndpoint(row) : null;
}

export async function findSigningEndpoints(db: Kysely<Database>, ids: readonly number[]): Promise<Map<number, SigningEndpoint>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('webhook_endpoints')
    .select([...endpointColumns, 'secret'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((row) => [row.id, { ...toEndpoint(row), secret: row.secret }]));
}

/** Removes an endpoint and its deliveries; false when there is none. */
export async function deleteWebhookEndpoint(db: Kysely<Database>, id: number): Promise<boolean> {
  const result = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Switches an endpoint on again, its failure run forgotten; false when there is none. */
export async function enableWebhookEndpoint(db: Kysely<Database>, id: number): Promise<boolean> {
  const result = await db
    .updateTable('webhook_endpoints')
    .set({ enabled: 1, failure_run: 0, disabled_at: null, disabled_reason: null })
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Endpoints switched on, with the event types they take. One switched off hears nothing of what
 * happens meanwhile (its outbox would otherwise grow without bound); what was queued before waits.
 */
export async function findEnabledEndpoints(db: Kysely<Database>): Promise<Array<{ id: number; eventTypes: string[] }>> {
  const rows = await db.selectFrom('webhook_endpoints').select(['id', 'event_types']).where('enabled', '=', 1).execute();
  return rows.map((row) => ({ id: row.id, eventTypes: row.event_types.split(',') }));
}

const deliveryColumns = [
  'id',
  'endpoint_id',
  'message_id',
  'event_type',
  'feed_seq',
  'status',
  'attempts',
  'created_at',
  'next_attempt_at',
  'last_attempt_at',
  'last_status',
  'last_duration_ms',
  'last_error',
  'delivered_at',
] as const;

type DeliveryRow = {
  id: number;
  endpoint_id: number;
  message_id: string;
  event_type: string;
  feed_seq: number;
  status: WebhookDeliveryStatus;
  attempts: number;
  created_at: Date | string;
  next_attempt_at: Date | string;
  last_attempt_at: Date | string | null;
  last_status: number | null;
  last_duration_ms: number | null;
  last_error: string | null;
  delivered_at: Date | string | null;
};

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    messageId: row.message_id,
    eventType: row.event_type,
    feedSeq: Number(row.feed_seq),
    status: row.status,
    attempts: row.attempts,
    createdAt: toIso(row.created_at),
    nextAttemptAt: toIso(row.next_attempt_at),
    lastAttemptAt: toIsoOrNull(row.last_attempt_at),
    lastStatus: row.last_status,
    lastDurationMs: row.last_duration_ms,
    lastError: row.last_error,
    deliveredAt: toIsoOrNull(row.delivered_at),
  };
}

/** An endpoint's most recent deliveries, newest first. */
export async function listWebhookDeliveries(db: Kysely<Database>, endpointId: number, limit: number): Promise<WebhookDelivery[]> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select(deliveryColumns)
    .where('endpoint_id', '=', endpointId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toDelivery);
}

export interface NewDelivery {
  endpointId: number;
  messageId: string;
  eventType: string;
  feedSeq: number;
  payload: string;
}

/**
 * Writes the deliveries for the feed entries after `fromSeq` up to `toSeq`, if the cursor still
 * stands at `fromSeq`: the compare-and-swap comes first, so of several instances one takes the
 * write lock (SQLite) or the row's lock (PostgreSQL) and the others find the cursor moved and
 * write nothing. Rows are inserted in feed order: ids then order each endpoint's deliveries.
 */
export async function writeDeliveries(db: Kysely<Database>, fromSeq: number, toSeq: number, deliveries: readonly NewDelivery[], now: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const moved = await trx.updateTable('webhook_feed_cursor').set({ seq: toSeq }).where('id', '=', 1).where('seq', '=', fromSeq).executeTakeFirst();
    if (moved.numUpdatedRows === 0n) return false;
    // 200 rows a statement: well within both dialects' bound on parameters.
    for (let start = 0; start < deliveries.length; start += 200) {
      await trx
        .insertInto('webhook_deliveries')
        .values(
          deliveries.slice(start, start + 200).map((d) => ({
            endpoint_id: d.endpointId,
            message_id: d.messageId,
            event_type: d.eventType,
            feed_seq: d.feedSeq,
            payload: d.payload,
            created_at: now,
            next_attempt_at: now,
          })),
        )
        .execute();
    }
    return true;
  });
}

export async function readFeedCursor(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('webhook_feed_cursor').select('seq').where('id', '=', 1).executeTakeFirst();
  return row ? Number(row.seq) : 0;
}

/**
 * Claims, for one attempt each, the next deliveries of up to `endpoints` endpoints that are
 * switched on: an endpoint is taken when its oldest pending delivery (its head) is due and no
 * worker holds it, and with the head come its next pending ones, up to `perEndpoint` in all, in
 * feed order, for the claimer to send one after the other. The head's lease is the endpoint's:
 * while one worker holds it no other takes anything of that endpoint, so each endpoint hears of
 * events in feed order. On PostgreSQL the heads are locked with `for update skip locked` (a head
 * another worker is claiming is passed over, not waited for); on SQLite the one conditional
 * update runs under the write lock. Either way a delivery is claimed once, in one statement.
 */
export async function claimDueDeliveries(
  db: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  now: string,
  lockedUntil: string,
  endpoints: number,
  perEndpoint: number,
): Promise<ClaimedDelivery[]> {
  const heads = sql`select min(d.id) from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
    where d.status = 'pending' and e.enabled = 1 group by d.endpoint_id`;
  const due = sql`id in (${heads}) and next_attempt_at <= ${now} and (locked_until is null or locked_until < ${now})`;
  const claimedHeads =
    dialect === 'postgres'
      ? sql`select id from webhook_deliveries where ${due} order by id limit ${endpoints} for update skip locked`
      : sql`select id from webhook_deliveries where ${due} order by id limit ${endpoints}`;
  const batches = sql`select id from (
      select d.id, row_number() over (partition by d.endpoint_id order by d.id) as position from webhook_deliveries d
      where d.status = 'pending' and d.endpoint_id in (select h.endpoint_id from webhook_deliveries h where h.id in (${claimedHeads}))
    ) ranked where position <= ${perEndpoint}`;
  const result = await sql<DeliveryRow & { payload: string }>`update webhook_deliveries
    set locked_until = ${lockedUntil}, attempts = attempts + 1
    where id in (${batches}) and status = 'pending' and (locked_until is null or locked_until < ${now})
    returning ${sql.join(deliveryColumns.map((c) => sql.ref(c)))}, payload`.execute(db);
  return result.rows.map((row) => ({ ...toDelivery(row), payload: row.payload })).sort((a, b) => a.id - b.id);
}

export interface AttemptOutcome {
  at: string;
  status: number | null;
  durationMs: number;
  /** A short excerpt (the caller bounds it). */
  error: string | null;
}

/** What became of one claimed delivery. */
export type AttemptResult =
  | { delivery: ClaimedDelivery; kind: 'delivered'; outcome: AttemptOutcome }
  /** Failed: retried at `nextAttemptAt`, or given up when it is null. */
  | { delivery: ClaimedDelivery; kind: 'failed'; outcome: AttemptOutcome; nextAttemptAt: string | null }
  /** Claimed but not tried (a delivery before it failed, or the lease ran short): back in the queue as it was. */
  | { delivery: ClaimedDelivery; kind: 'released' };

/**
 * Records what became of one endpoint's claimed deliveries, in one statement (a `values` list
 * joined to the rows), and the endpoint's failure run: a delivery ends it, a failed attempt
 * lengthens it, and at `disableAfter` the endpoint is switched off. The endpoint's row is
 * written only when its run changes (`failureRunBefore`: as read when the batch was claimed;
 * only the worker holding the endpoint's head changes it). Resolves with whether the endpoint
 * was switched off.
 */
export async function recordAttempts(
  db: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  endpointId: number,
  results: readonly AttemptResult[],
  failureRunBefore: number,
  disableAfter: number,
): Promise<boolean> {
  if (results.length === 0) return false;
  const pg = dialect === 'postgres';
  // SQLite keeps times as ISO text; PostgreSQL's `values` needs the types spelled out.
  const time = (value: string | null) => (pg ? sql`cast(${value} as timestamptz)` : sql`${value}`);
  const int = (value: number | null) => (pg ? sql`cast(${value} as integer)` : sql`${value}`);
  const text = (value: string | null) => (pg ? sql`cast(${value} as text)` : sql`${value}`);
  const rows = results.map((result) => {
    const d = result.delivery;
    const row = (status: WebhookDeliveryStatus, attempts: number, next: string, last: AttemptOutcome | null, deliveredAt: string | null) =>
      sql`(${int(d.id)}, ${text(status)}, ${int(attempts)}, ${time(next)}, ${time(last ? last.at : d.lastAttemptAt)}, ${int(last ? last.status : d.lastStatus)}, ${int(last ? last.durationMs : d.lastDurationMs)}, ${text(last ? last.error : d.lastError)}, ${time(deliveredAt)})`;
    if (result.kind === 'delivered') return row('delivered', d.attempts, d.nextAttemptAt, result.outcome, result.outcome.at);
    if (result.kind === 'failed')
      return row(result.nextAttemptAt === null ? 'failed' : 'pending', d.attempts, result.nextAttemptAt ?? d.nextAttemptAt, result.outcome, null);
    // The claim counted an attempt that was not made.
    return row('pending', d.attempts - 1, d.nextAttemptAt, null, null);
  });
  const update = sql`update webhook_deliveries set status = v.column2, attempts = v.column3, next_attempt_at = v.column4, locked_until = null,
      last_attempt_at = v.column5, last_status = v.column6, last_duration_ms = v.column7, last_error = v.column8, delivered_at = v.column9
    from (values ${sql.join(rows)}) as v where webhook_deliveries.id = v.column1`;
  const delivered = results.some((r) => r.kind === 'delivered');
  const failed = results.find((r): r is Extract<AttemptResult, { kind: 'failed' }> => r.kind === 'failed');
  if (!failed) {
    if (delivered && failureRunBefore !== 0) {
      return db.transaction().execute(async (trx) => {
        await update.execute(trx);
        await trx.updateTable('webhook_endpoints').set({ failure_run: 0 }).where('id', '=', endpointId).execute();
        return false;
      });
    }
    await update.execute(db);
    return false;
  }
  return db.transaction().execute(async (trx) => {
    await update.execute(trx);
    // A delivery in this batch ended the run before the failure began a new one.
    const endpoint = await trx
      .updateTable('webhook_endpoints')
      .set((eb) => ({ failure_run: delivered ? 1 : eb('failure_run', '+', 1) }))
      .where('id', '=', endpointId)
      .returning(['failure_run', 'enabled'])
      .executeTakeFirst();
    if (!endpoint || Number(endpoint.enabled) !== 1 || endpoint.failure_run < disableAfter) return false;
    await trx
      .updateTable('webhook_endpoints')
      .set({
        enabled: 0,
        disabled_at: failed.outcome.at,
        disabled_reason: `${endpoint.failure_run} failed attempts in a row; last: ${failed.outcome.error ?? 'no answer'}`.slice(0, 500),
      })
      .where('id', '=', endpointId)
      .execute();
    return true;
  });
}

/** Forgets deliveries done (delivered or given up) before `before`. */
export async function pruneDeliveries(db: Kysely<Database>, before: string): Promise<number> {
  const result = await db.deleteFrom('webhook_deliveries').where('status', '<>', 'pending').where('created_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Whether any delivery waits (to be tried, retried, or held by a worker). */
export async function hasPendingDeliveries(db: Kysely<Database>): Promise<boolean> {
  const row = await db.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').limit(1).executeTakeFirst();
  return row !== undefined;
}
