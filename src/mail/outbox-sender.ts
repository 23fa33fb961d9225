import { WorkLoop } from '../background/work-loop.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { hashToken, newToken } from '../sign-ups/tokens.ts';
import { findNewslettersByIds } from '../store/newsletter.repository.ts';
import { type ClaimedMessage, claimMessage, findDueMessageIds, markMessageDone, markMessageRetry, markMessageSent } from '../store/outbox.repository.ts';
import type { Store } from '../store/store.ts';
import { findSubscriptionById, insertTokens } from '../store/subscription.repository.ts';
import { CONFIRM_PATH, composeMessage, linkTo, UNSUBSCRIBE_PATH } from './messages.ts';
import { isPermanentFailure, type MailTransport } from './transport.ts';

const BATCH = 20;
/** How long one attempt may hold a message before another sender may take it over. */
const LEASE_MS = 2 * 60_000;
const MAX_BACKOFF_MS = 3_600_000;

/**
 * Delivers the outbox. Messages are rows written with the change that called for them, so a
 * crash between that commit and the send loses nothing: the row waits until a sender (this
 * process after a restart, or another instance) claims it. Delivery is at least once: a crash
 * after the SMTP server took a message but before it is marked sent sends it again.
 *
 * Each message gets fresh tokens when it is sent, so no token is ever stored in the clear.
 */
export class OutboxSender {
  readonly #store: Store;
  readonly #transport: MailTransport;
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #loop: WorkLoop;

  constructor(store: Store, transport: MailTransport, config: Config, logger: Logger) {
    this.#store = store;
    this.#transport = transport;
    this.#config = config;
    this.#logger = logger;
    this.#loop = new WorkLoop(
      async () => {
        await this.deliverDue();
        return config.mail.pollMs;
      },
      (error) => {
        logger.warn('the mail sender could not read the outbox:', error);
        return config.mail.pollMs;
      },
    );
  }

  start(): void {
    this.#loop.start();
  }

  /** Looks for due messages now (a sign-up just queued one), and then every poll interval. */
  nudge(): void {
    this.#loop.nudge();
  }

  /** Stops polling and waits for the attempt in flight. */
  async stop(): Promise<void> {
    await this.#loop.stop();
    this.#transport.close();
  }

  /** Sends every message due now; resolves with how many were sent. */
  async deliverDue(): Promise<number> {
    let sent = 0;
    for (;;) {
      const now = new Date();
      const ids = await findDueMessageIds(this.#store.db, now.toISOString(), BATCH);
      for (const id of ids) {
        const claimed = await claimMessage(this.#store.db, id, now.toISOString(), new Date(now.getTime() + LEASE_MS).toISOString());
        if (claimed && (await this.#attempt(claimed))) sent += 1;
      }
      if (ids.length < BATCH) return sent;
    }
  }

  async #attempt(message: ClaimedMessage): Promise<boolean> {
    const db = this.#store.db;
    const subscription = await findSubscriptionById(db, message.subscriptionId);
    const [newsletter] = subscription ? await findNewslettersByIds(db, [subscription.newsletterId]) : [];
    if (!subscription || !newsletter) {
      await markMessageDone(db, message.id, 'cancelled', 'the sign-up is gone');
      return false;
    }
    // The sign-up moved on since the message was queued (confirmed, or unsubscribed): say nothing.
    if (message.kind === 'confirm' && subscription.status !== 'pending') {
      await markMessageDone(db, message.id, 'cancelled', `the sign-up is ${subscription.status}`);
      return false;
    }
    const now = new Date();
    const { publicUrl, signUp, mail } = this.#config;
    const unsubscribeToken = newToken();
    const confirmToken = message.kind === 'confirm' ? newToken() : null;
    await insertTokens(db, [
      {
        hash: hashToken(unsubscribeToken),
        subscriptionId: subscription.id,
        purpose: 'unsubscribe',
        now: now.toISOString(),
        expiresAt: new Date(now.getTime() + signUp.unsubscribeTokenTtlMs).toISOString(),
      },
      ...(confirmToken === null
        ? []
        : [
            {
              hash: hashToken(confirmToken),
              subscriptionId: subscription.id,
              purpose: 'confirm' as const,
              now: now.toISOString(),
              expiresAt: new Date(now.getTime() + signUp.confirmTokenTtlMs).toISOString(),
            },
          ]),
    ]);
    const email = composeMessage(message.kind, {
      from: mail.from,
      to: subscription.email,
      newsletter,
      confirmTtlMs: signUp.confirmTokenTtlMs,
      listHost: new URL(publicUrl).hostname,
      links: {
        confirmUrl: confirmToken === null ? null : linkTo(publicUrl, CONFIRM_PATH, confirmToken),
        unsubscribeUrl: linkTo(publicUrl, UNSUBSCRIBE_PATH, unsubscribeToken),
      },
    });
    try {
      const { messageId } = await this.#transport.send(email);
      await markMessageSent(db, message.id, new Date().toISOString(), messageId);
      this.#logger.info(`mail ${message.id} (${message.kind}, ${newsletter.slug}) sent to ${this.#transport.description}`);
      return true;
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      if (isPermanentFailure(error) || message.attempts >= mail.maxAttempts) {
        await markMessageDone(db, message.id, 'failed', reason);
        this.#logger.error(`mail ${message.id} failed after ${message.attempts} attempt(s), giving up: ${reason}`);
      } else {
        const delay = Math.min(mail.retryBaseMs * 2 ** (message.attempts - 1), MAX_BACKOFF_MS);
        const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
        await markMessageRetry(db, message.id, new Date(Date.now() + jittered).toISOString(), reason);
        this.#logger.warn(`mail ${message.id} attempt ${message.attempts} failed, retrying in ${jittered} ms: ${reason}`);
      }
      return false;
    }
  }
}
