import { Webhook } from 'standardwebhooks';
import { WorkLoop } from '../background/work-loop.ts';
import type { WebhookConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import {
  type AttemptResult,
  type ClaimedDelivery,
  claimDueDeliveries,
  findSigningEndpoints,
  hasPendingDeliveries,
  pruneDeliveries,
  recordAttempts,
  type SigningEndpoint,
} from '../store/webhook.repository.ts';
import { ReceiverAgents, sendWebhook } from './http-sender.ts';

/** Deliveries done (delivered or given up) are kept this long for `webhooks deliveries`. */
const KEEP_DONE_MS = 7 * 24 * 3_600_000;

/** Deliveries of one endpoint claimed at once and sent one after the other on a kept connection. */
const BATCH_PER_ENDPOINT = 32;

/**
 * The wait before attempt `attempts + 1`, with "full jitter": a random time within a window that
 * is twice the base after the first failed attempt and doubles after each next one, up to
 * WEBHOOK_RETRY_MAX_MS. On average the first retry comes after the base (1 s by default), so a
 * receiver's passing error holds its endpoint's later deliveries (feed order) about that long;
 * spread over the whole window, the retries of deliveries that failed together (an outage) do
 * not come back in step.
 */
export function retryDelayMs(config: Pick<WebhookConfig, 'retryBaseMs' | 'retryMaxMs'>, attempts: number, random = Math.random()): number {
  const window = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** Math.min(attempts, 40));
  return Math.max(1, Math.round(window * random));
}

/**
 * Delivers the webhook outbox: POSTs `{ type, timestamp, data }` signed per Standard Webhooks
 * (the `standardwebhooks` package: `webhook-id`, `webhook-timestamp`, `webhook-signature`), at
 * least once, each endpoint's deliveries in feed order (its next one waits until the one before
 * is delivered or given up), the same webhook-id on every retry. Several instances share the
 * work: a delivery is claimed (see claimDueDeliveries) before it is sent, with a lease longer
 * than an attempt can take; a worker that dies holding one lets it go when the lease runs out.
 */
export class DeliveryWorker {
  readonly #store: Store;
  readonly #config: WebhookConfig;
  readonly #logger: Logger;
  readonly #loop: WorkLoop;
  #lastPrune = 0;
  /** The earliest retry this worker scheduled that is not yet due: it wakes then, not at the next poll. */
  #soonestRetry = Number.POSITIVE_INFINITY;
  readonly #agents: ReceiverAgents;

  constructor(store: Store, config: WebhookConfig, logger: Logger) {
    this.#store = store;
    this.#config = config;
    this.#logger = logger;
    this.#agents = new ReceiverAgents(config.allowPrivateAddresses);
    this.#loop = new WorkLoop(
      async () => {
        await this.deliverDue();
        return (await hasPendingDeliveries(store.db)) ? this.#nextWait() : null;
      },
      (error) => {
        logger.warn('webhooks: could not read the delivery outbox:', error);
        return this.#nextWait();
      },
    );
  }

  /** Retries this worker scheduled are made on time; others' (another instance's) at the next poll. */
  #nextWait(): number {
    return Math.min(this.#config.pollMs, this.#soonestRetry - Date.now());
  }

  start(): void {
    this.#loop.start();
  }

  /**
   * Looks for due deliveries now (the fan-out just wrote some), then every poll interval while any
   * wait (retries, or deliveries another worker holds). With none waiting it sleeps, without a
   * statement, until the fan-out wakes it.
   */
  nudge(): void {
    this.#loop.nudge();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    this.#agents.destroy();
  }

  /**
   * Makes every attempt due now: up to `concurrency` endpoints at once, each endpoint's claimed
   * deliveries one after the other (feed order); resolves with how many were delivered.
   */
  async deliverDue(): Promise<number> {
    let delivered = 0;
    if (Date.now() - this.#lastPrune > 3_600_000) {
      this.#lastPrune = Date.now();
      await pruneDeliveries(this.#store.db, new Date(Date.now() - KEEP_DONE_MS).toISOString());
    }
    for (;;) {
      const now = Date.now();
      // A retry that is due now is claimed below (or another worker made it).
      if (this.#soonestRetry <= now) this.#soonestRetry = Number.POSITIVE_INFINITY;
      // The lease outlasts two attempts and the time to record them; a batch stops before its
      // next attempt could outlast it, so a worker that dies holding a batch holds it no longer.
      const leaseEnds = now + 2 * this.#config.timeoutMs + 30_000;
      const claimed = await claimDueDeliveries(
        this.#store.db,
        this.#store.dialect,
        new Date(now).toISOString(),
        new Date(leaseEnds).toISOString(),
        this.#config.concurrency,
        BATCH_PER_ENDPOINT,
      );
      if (claimed.length === 0) return delivered;
      const batches = new Map<number, ClaimedDelivery[]>();
      for (const delivery of claimed) batches.set(delivery.endpointId, [...(batches.get(delivery.endpointId) ?? []), delivery]);
      const endpoints = await findSigningEndpoints(this.#store.db, [...batches.keys()]);
      const results = await Promise.all([...batches].map(([id, batch]) => this.#sendBatch(batch, endpoints.get(id), leaseEnds)));
      delivered += results.reduce((sum, n) => sum + n, 0);
    }
  }

  /** Sends one endpoint's batch in order until an attempt fails, then records the outcomes at once; resolves with how many were delivered. */
  async #sendBatch(batch: readonly ClaimedDelivery[], endpoint: SigningEndpoint | undefined, leaseEnds: number): Promise<number> {
    // Removed since it was claimed: its deliveries went with it.
    if (!endpoint) return 0;
    const results: AttemptResult[] = [];
    let stopped = false;
    for (const delivery of batch) {
      // After a failure the rest wait their turn (feed order); near the lease's end they go back.
      if (stopped || (results.length > 0 && Date.now() + this.#config.timeoutMs + 15_000 > leaseEnds)) {
        results.push({ delivery, kind: 'released' });
        continue;
      }
      const result = await this.#attempt(delivery, endpoint);
      results.push(result);
      if (result.kind === 'failed') {
        stopped = true;
        if (result.nextAttemptAt !== null) this.#soonestRetry = Math.min(this.#soonestRetry, Date.parse(result.nextAttemptAt));
      }
    }
    const switchedOff = await recordAttempts(this.#store.db, this.#store.dialect, endpoint.id, results, endpoint.failureRun, this.#config.disableAfterFailures);
    for (const result of results) {
      if (result.kind === 'failed' && result.nextAttemptAt === null)
        this.#logger.warn(
          `webhooks: delivery ${result.delivery.id} (${result.delivery.eventType}) to endpoint ${endpoint.id} given up after ${result.delivery.attempts} attempts: ${result.outcome.error}`,
        );
    }
    if (switchedOff)
      this.#logger.warn(`webhooks: endpoint ${endpoint.id} switched off after a run of failures (masthead webhooks enable ${endpoint.id} switches it on)`);
    return results.filter((r) => r.kind === 'delivered').length;
  }

  async #attempt(delivery: ClaimedDelivery, endpoint: SigningEndpoint): Promise<AttemptResult> {
    const sentAt = new Date();
    const signature = new Webhook(endpoint.secret).sign(delivery.messageId, sentAt, delivery.payload);
    const outcome = await sendWebhook(
      endpoint.url,
      { 'webhook-id': delivery.messageId, 'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)), 'webhook-signature': signature },
      delivery.payload,
      { timeoutMs: this.#config.timeoutMs, allowPrivate: this.#config.allowPrivateAddresses, agents: this.#agents },
    );
    const recorded = { at: sentAt.toISOString(), status: outcome.status, durationMs: outcome.durationMs, error: outcome.error };
    if (outcome.ok) return { delivery, kind: 'delivered', outcome: recorded };
    const givingUp = delivery.attempts >= this.#config.maxAttempts;
    const next = givingUp ? null : new Date(Date.now() + retryDelayMs(this.#config, delivery.attempts)).toISOString();
    return { delivery, kind: 'failed', outcome: recorded, nextAttemptAt: next };
  }
}
