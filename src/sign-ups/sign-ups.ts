import type { SignUpConfig } from '../config.ts';
import { normalizeEmail } from '../email.ts';
import { type UserError, type UserErrorCode, userError } from '../errors/error-codes.ts';
import type { OutboxKind } from '../store/database.ts';
import type { Newsletter, Subscription } from '../store/model.ts';
import { findNewsletterBySlug, findNewslettersByIds } from '../store/newsletter.repository.ts';
import { cancelPendingMessages } from '../store/outbox.repository.ts';
import type { Store } from '../store/store.ts';
import {
  findSubscriptionById,
  findToken,
  lockOrCreateSubscription,
  lockSubscription,
  recordSignUp,
  revokeConfirmTokens,
  setSubscriptionStatus,
  spendToken,
} from '../store/subscription.repository.ts';
import { emailKey, type RateLimiter } from '../rate-limits/rate-limiter.ts';
import { hashToken, isWellFormedToken, newPublicId } from './tokens.ts';

// The double opt-in flow, apart from GraphQL and HTTP: the mutations and the confirmation
// pages both call these.

export interface SignUpServices {
  store: Store;
  config: SignUpConfig;
  rateLimiter: RateLimiter;
  /** Called after a transaction that queued a message commits: wakes the sender. */
  onMessageQueued(): void;
}

export interface SignUpRequest {
  email: string;
  newsletter: string;
  /** The honeypot: people leave it empty, bots fill it in. */
  website?: string | null;
  source?: string | null;
  consentVersion?: string | null;
  clientAddress: string | null;
  userAgent: string | null;
  now: string;
}

export type SignUpResult = { accepted: true; receipt: Subscription; newsletter: Newsletter } | { accepted: false; userErrors: UserError[] };

const MAX_SLUG_LENGTH = 200;
const LABEL = /^[\x21-\x7e](?:[\x20-\x7e]{0,98}[\x21-\x7e])?$/;

function checkLabel(field: string, value: string | null | undefined, errors: UserError[]): string | null {
  if (value === undefined || value === null || value.trim() === '') return null;
  const trimmed = value.trim();
  if (!LABEL.test(trimmed)) {
    errors.push(userError('INPUT_INVALID', `${field} must be 1 to 100 printable ASCII characters.`, ['input', field]));
    return null;
  }
  return trimmed;
}

function minutes(ms: number): string {
  const count = Math.max(1, Math.ceil(ms / 60_000));
  return count === 1 ? 'a minute' : `${count} minutes`;
}

/**
 * Signs a reader up. Whatever the address's history (new, pending, active, unsubscribed) the
 * caller gets the same answer: a receipt saying the sign-up waits for the address's owner; the
 * e-mail tells the owner what happened. One transaction writes the sign-up, its consent record
 * and the message to send, or none of them.
 */
export async function signUp(services: SignUpServices, request: SignUpRequest): Promise<SignUpResult> {
  const { store, config } = services;
  const userErrors: UserError[] = [];
  const normalized = normalizeEmail(request.email);
  if ('problem' in normalized) {
    userErrors.push(
      userError(
        normalized.problem,
        normalized.problem === 'EMAIL_TOO_LONG'
          ? 'That e-mail address is too long.'
          : `${JSON.stringify(request.email.slice(0, 100))} is not an e-mail address.`,
        ['input', 'email'],
      ),
    );
  }
  const slug = request.newsletter.trim();
  const newsletter = slug.length > 0 && slug.length <= MAX_SLUG_LENGTH ? await findNewsletterBySlug(store.db, slug, request.now) : null;
  if (!newsletter) {
    userErrors.push(
      userError('NEWSLETTER_NOT_FOUND', `There is no newsletter ${JSON.stringify(slug.slice(0, 100))}; Query.newsletters lists them.`, ['input', 'newsletter']),
    );
  }
  const source = checkLabel('source', request.source, userErrors);
  const consentVersion = checkLabel('consentVersion', request.consentVersion, userErrors);
  if (!newsletter || 'problem' in normalized || userErrors.length > 0) return { accepted: false, userErrors };
  const email = normalized.email;

  const receipt = (publicId: string): SignUpResult => ({
    accepted: true,
    newsletter,
    receipt: { id: 0, publicId, newsletterId: newsletter.id, email, status: 'pending', createdAt: request.now, confirmedAt: null },
  });

  // A bot that filled the honeypot is told what anyone is told, and nothing is written.
  if (request.website !== undefined && request.website !== null && request.website.trim() !== '') {
    return receipt(newPublicId());
  }

  for (const [key, rule] of [
    [`client:${request.clientAddress ?? 'unknown'}`, config.perClient],
    [emailKey(email), config.perEmail],
  ] as const) {
    const decision = await services.rateLimiter.consume(`subscribe:${key}`, rule);
    if (!decision.allowed) {
      return {
        accepted: false,
        userErrors: [userError('RATE_LIMITED', `Too many sign-ups; try again in ${minutes(decision.retryAfterMs)}.`)],
      };
    }
  }

  const { publicId, queued } = await store.db.transaction().execute(async (trx) => {
    const { subscription } = await lockOrCreateSubscription(trx, {
      newsletterId: newsletter.id,
      email,
      publicId: newPublicId(),
      now: request.now,
    });
    let kind: OutboxKind = 'confirm';
    if (subscription.status === 'unsubscribed') {
      await setSubscriptionStatus(trx, subscription.id, 'pending', request.now);
    } else if (subscription.status === 'active') {
      kind = 'already-subscribed';
    }
    // A message still waiting to go out says all there is to say: repeated sign-ups send one.
    const queued = await recordSignUp(
      trx,
      store.dialect,
      {
        subscription_id: subscription.id,
        recorded_at: request.now,
        source: source ?? 'api',
        wording_version: consentVersion ?? config.consentVersion,
        client_address: request.clientAddress,
        user_agent: request.userAgent?.slice(0, 500) ?? null,
      },
      { kind, now: request.now },
    );
    return { publicId: subscription.publicId, queued };
  });
  if (queued) services.onMessageQueued();
  return receipt(publicId);
}

export type TokenResult = { subscription: Subscription } | { userErrors: UserError[] };

const tokenError = (code: Extract<UserErrorCode, 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'TOKEN_USED'>): { userErrors: UserError[] } => ({
  userErrors: [
    userError(
      code,
      code === 'TOKEN_EXPIRED'
        ? 'This link has expired. Sign up again to get a new one.'
        : code === 'TOKEN_USED'
          ? 'This link has been used already.'
          : 'This link is not valid.',
      ['token'],
    ),
  ],
});

/** The stored token for `token` if it is one of `purpose`, else why not. */
async function lookUpToken(
  store: Store,
  token: string,
  purpose: 'confirm' | 'unsubscribe',
  now: string,
): Promise<{ hash: string; subscriptionId: number } | { userErrors: UserError[] }> {
  if (!isWellFormedToken(token)) return tokenError('TOKEN_INVALID');
  const hash = hashToken(token);
  const stored = await findToken(store.db, hash);
  if (!stored || stored.purpose !== purpose) return tokenError('TOKEN_INVALID');
  if (stored.usedAt !== null) return tokenError('TOKEN_USED');
  if (stored.expiresAt <= now) return tokenError('TOKEN_EXPIRED');
  return { hash, subscriptionId: stored.subscriptionId };
}

/**
 * Confirms a PENDING sign-up with a single-use token. Every change to a sign-up locks it first,
 * so a confirmation racing an unsubscribe ends UNSUBSCRIBED either way: after the unsubscribe
 * no confirmation token is left to spend.
 */
export async function confirmSignUp(store: Store, token: string, now: string): Promise<TokenResult> {
  const found = await lookUpToken(store, token, 'confirm', now);
  if ('userErrors' in found) return found;
  return store.db.transaction().execute(async (trx) => {
    const subscription = await lockSubscription(trx, found.subscriptionId);
    const stored = await findToken(trx, found.hash);
    if (!subscription || !stored) return tokenError('TOKEN_INVALID');
    if (!(await spendToken(trx, found.hash, now))) return tokenError('TOKEN_USED');
    if (subscription.status === 'unsubscribed') return tokenError('TOKEN_INVALID');
    if (subscription.status === 'active') return { subscription };
    return { subscription: await setSubscriptionStatus(trx, subscription.id, 'active', now) };
  });
}

/** Unsubscribes with the token from any message; unsubscribing twice is no mistake. */
export async function unsubscribe(store: Store, token: string, now: string): Promise<TokenResult> {
  const found = await lookUpToken(store, token, 'unsubscribe', now);
  if ('userErrors' in found) return found;
  return store.db.transaction().execute(async (trx) => {
    const subscription = await lockSubscription(trx, found.subscriptionId);
    if (!subscription) return tokenError('TOKEN_INVALID');
    if (subscription.status === 'unsubscribed') return { subscription };
    await revokeConfirmTokens(trx, subscription.id);
    await cancelPendingMessages(trx, subscription.id);
    return { subscription: await setSubscriptionStatus(trx, subscription.id, 'unsubscribed', now) };
  });
}

/** What a link's page shows before the reader presses its button. Reads only. */
export async function describeToken(
  store: Store,
  token: string,
  purpose: 'confirm' | 'unsubscribe',
  now: string,
): Promise<{ newsletter: Newsletter; subscription: Subscription } | { userErrors: UserError[] }> {
  const found = await lookUpToken(store, token, purpose, now);
  if ('userErrors' in found) return found;
  const subscription = await findSubscriptionById(store.db, found.subscriptionId);
  const [newsletter] = subscription ? await findNewslettersByIds(store.db, [subscription.newsletterId]) : [];
  if (!subscription || !newsletter) return tokenError('TOKEN_INVALID');
  return { newsletter, subscription };
}
