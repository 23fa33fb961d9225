import { Webhook } from 'standardwebhooks';
import type { WebhookConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import {
  type ClaimedDelivery,
  hasPendingDeliveries,
  claimDueDeliveries,
  findSigningEndpoints,
  markDelivered,
  markFailedAttempt,
  pruneDeliveries,
} from '../store/webhook.repository.ts';
import { sendWebhook } from './http-sender.ts';

/** Deliveries done (delivered or given up) are kept this long for `webhooks deliveries`. */
const KEEP_DONE_MS = 7 * 24 * 3_600_000;

/** The wait before attempt `attempts + 1`: exponential from the base, capped, with ±20% jitter so retries do not arrive in step. */
export function retryDelayMs(config: Pick<WebhookConfig, 'retryBaseMs' | 'retryMaxMs'>, attempts: number, random = Math.random()): number {
  const delay = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** Math.min(attempts - 1, 40));
  return Math.max(1, Math.round(delay * (0.8 + random * 0.4)));
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
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;
  #lastPrune = 0;

  constructor(store: Store, config: WebhookConfig, logger: Logger) {
    this.#store = store;
    this.#config = config;
    this.#logger = logger;
  }

  start(): void {
    this.#stopped = false;
    this.nudge();
  }

  /**
   * Looks for due deliveries now (the fan-out just wrote some), then every poll interval while any
   * wait (retries, or deliveries another worker holds). With none waiting it sleeps, without a
   * statement, until the fan-out wakes it.
   */
  nudge(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    let waiting = true;
    this.#running = this.deliverDue()
      .then(async () => {
        waiting = await hasPendingDeliveries(this.#store.db);
      })
      .catch((error: unknown) => this.#logger.warn('webhooks: could not read the delivery outbox:', error))
      .finally(() => {
        this.#running = null;
        if (this.#stopped) return;
        if (this.#again) {
          this.#again = false;
          this.nudge();
        } else if (waiting) {
          this.#timer = setTimeout(() => this.nudge(), this.#config.pollMs);
          this.#timer.unref();
        }
      });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** Makes every attempt due now, `concurrency` at a time (each to another endpoint); resolves with how many succeeded. */
  async deliverDue(): Promise<number> {
    let delivered = 0;
    if (Date.now() - this.#lastPrune > 3_600_000) {
      this.#lastPrune = Date.now();
      await pruneDeliveries(this.#store.db, new Date(Date.now() - KEEP_DONE_MS).toISOString());
    }
    for (;;) {
      const now = Date.now();
      // The lease outlasts an attempt: the timeout, and time to record the outcome.
      const lease = new Date(now + this.#config.timeoutMs + 30_000).toISOString();
      const claimed = await claimDueDeliveries(this.#store.db, this.#store.dialect, new Date(now).toISOString(), lease, this.#config.concurrency);
      if (claimed.length === 0) return delivered;
      const endpoints = await findSigningEndpoints(this.#store.db, [...new Set(claimed.map((d) => d.endpointId))]);
      const results = await Promise.all(claimed.map((delivery) => this.#attempt(delivery, endpoints.get(delivery.endpointId))));
      delivered += results.filter(Boolean).length;
    }
  }

  async #attempt(delivery: ClaimedDelivery, endpoint: { url: string; secret: string } | undefined): Promise<boolean> {
    const db = this.#store.db;
    // Removed since it was claimed: its deliveries went with it.
    if (!endpoint) return false;
    const sentAt = new Date();
    const signature = new Webhook(endpoint.secret).sign(delivery.messageId, sentAt, delivery.payload);
    const outcome = await sendWebhook(
      endpoint.url,
      { 'webhook-id': delivery.messageId, 'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)), 'webhook-signature': signature },
      delivery.payload,
      { timeoutMs: this.#config.timeoutMs, allowPrivate: this.#config.allowPrivateAddresses },
    );
    const recorded = { at: sentAt.toISOString(), status: outcome.status, durationMs: outcome.durationMs, error: outcome.error };
    if (outcome.ok) {
      await markDelivered(db, delivery, recorded);
      return true;
    }
    const givingUp = delivery.attempts >= this.#config.maxAttempts;
    const next = givingUp ? null : new Date(Date.now() + retryDelayMs(this.#config, delivery.attempts)).toISOString();
    const switchedOff = await markFailedAttempt(db, delivery, recorded, next, this.#config.disableAfterFailures);
    if (givingUp)
      this.#logger.warn(
        `webhooks: delivery ${delivery.id} (${delivery.eventType}) to endpoint ${delivery.endpointId} given up after ${delivery.attempts} attempts: ${outcome.error}`,
      );
    if (switchedOff)
      this.#logger.warn(
        `webhooks: endpoint ${delivery.endpointId} switched off after a run of failures (masthead webhooks enable ${delivery.endpointId} switches it on)`,
      );
    return false;
  }
}
