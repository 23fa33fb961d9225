import { createHash } from 'node:crypto';
import { normalizeEmail } from '../email.ts';
import { findNewsletterBySlug } from '../store/newsletter.repository.ts';
import {
  ensureSubscription,
  findSubscriptionByConfirmTokenHash,
  findSubscriptionByUnsubscribeTokenHash,
} from '../store/subscription.repository.ts';
import type { Subscription } from '../store/model.ts';
import { builder } from './builder.ts';
import { NewsletterRef, NewsletterSubscriptionRef } from './refs.ts';

// The design's "Subscription" is NewsletterSubscription in the graph: GraphQL reserves the
// name Subscription for the root type of live operations.

const SubscriptionStatus = builder.enumType('SubscriptionStatus', {
  description: 'Where a sign-up stands.',
  values: {
    PENDING: { value: 'pending', description: 'Signed up; the reader has not confirmed yet.' },
    ACTIVE: { value: 'active', description: 'Confirmed: the reader receives the newsletter.' },
    UNSUBSCRIBED: { value: 'unsubscribed', description: 'The reader has left the list.' },
  } as const,
});

builder.node(NewsletterSubscriptionRef, {
  description: 'A reader\'s sign-up to a newsletter. Readable only by its own sign-up response, never by a public query.',
  id: { resolve: (subscription) => subscription.id },
  // No public query reveals e-mails: until roles exist, no caller may read a sign-up by id.
  loadMany: (ids) => ids.map(() => null),
  fields: (t) => ({
    email: t.exposeString('email', { description: 'The address, trimmed, with its domain in lower case.' }),
    newsletter: t.field({
      type: NewsletterRef,
      description: 'The newsletter signed up to.',
      resolve: async (subscription, _args, context) => {
        const newsletter = await context.loaders.newsletterById.load(subscription.newsletterId);
        if (!newsletter) throw new Error(`subscription ${subscription.id} names a missing newsletter`);
        return newsletter;
      },
    }),
    status: t.field({ type: SubscriptionStatus, description: 'Where the sign-up stands.', resolve: (s) => s.status }),
    createdAt: t.field({ type: 'DateTime', description: 'When the reader signed up.', resolve: (s) => s.createdAt }),
    confirmedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the reader confirmed, if they have.',
      resolve: (s) => s.confirmedAt,
    }),
  }),
});

interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}

const UserErrorRef = builder.objectRef<UserError>('UserError').implement({
  description: 'A mistake in the input that the user can fix; `code` is stable, `message` is for people.',
  fields: (t) => ({
    field: t.exposeStringList('field', { nullable: true, description: 'The path to the input field at fault, if one is.' }),
    message: t.exposeString('message', { description: 'What is wrong, in words a reader can act on.' }),
    code: t.exposeString('code', {
      description: 'A stable code: EMAIL_INVALID, EMAIL_TOO_LONG, NEWSLETTER_NOT_FOUND, TOKEN_INVALID.',
    }),
  }),
});

interface SubscriptionPayload {
  subscription: Subscription | null;
  userErrors: UserError[];
}

function payloadType(name: string, description: string) {
  return builder.objectRef<SubscriptionPayload>(name).implement({
    description,
    fields: (t) => ({
      subscription: t.field({
        type: NewsletterSubscriptionRef,
        nullable: true,
        description: 'The sign-up, unless the input had errors.',
        resolve: (payload) => payload.subscription,
      }),
      userErrors: t.field({
        type: [UserErrorRef],
        description: 'What was wrong with the input; empty on success.',
        resolve: (payload) => payload.userErrors,
      }),
    }),
  });
}

const SubscribePayload = payloadType('SubscribePayload', 'The result of signing up.');
const ConfirmSubscriptionPayload = payloadType('ConfirmSubscriptionPayload', 'The result of confirming a sign-up.');
const UnsubscribePayload = payloadType('UnsubscribePayload', 'The result of unsubscribing.');

const SubscribeInput = builder.inputType('SubscribeInput', {
  description: 'A sign-up: who, and to which newsletter.',
  fields: (t) => ({
    email: t.string({ required: true, description: 'The reader\'s e-mail address.' }),
    newsletter: t.string({ required: true, description: 'The slug of the newsletter (see Query.newsletters).' }),
  }),
});

const MAX_SLUG_LENGTH = 200;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const invalidToken = (): SubscriptionPayload => ({
  subscription: null,
  userErrors: [{ field: ['token'], code: 'TOKEN_INVALID', message: 'This link is not valid or has expired.' }],
});

builder.mutationFields((t) => ({
  subscribe: t.field({
    type: SubscribePayload,
    description: 'Signs a reader up to a newsletter, PENDING until confirmed. Signing up again changes nothing.',
    args: { input: t.arg({ type: SubscribeInput, required: true, description: 'The sign-up.' }) },
    resolve: async (_root, { input }, context) => {
      const userErrors: UserError[] = [];
      const normalized = normalizeEmail(input.email);
      if ('problem' in normalized) {
        userErrors.push({
          field: ['input', 'email'],
          code: normalized.problem,
          message:
            normalized.problem === 'EMAIL_TOO_LONG'
              ? 'That e-mail address is too long.'
              : `${JSON.stringify(input.email.slice(0, 100))} is not an e-mail address.`,
        });
      }
      const slug = input.newsletter.trim();
      const newsletter = slug.length <= MAX_SLUG_LENGTH ? await findNewsletterBySlug(context.store.db, slug) : null;
      if (!newsletter) {
        userErrors.push({
          field: ['input', 'newsletter'],
          code: 'NEWSLETTER_NOT_FOUND',
          message: `There is no newsletter ${JSON.stringify(slug.slice(0, 100))}; Query.newsletters lists them.`,
        });
      }
      if (!newsletter || 'problem' in normalized) return { subscription: null, userErrors };
      context.loaders.newsletterById.prime(newsletter.id, newsletter);
      const subscription = await ensureSubscription(context.store.db, {
        newsletterId: newsletter.id,
        email: normalized.email,
        now: context.now,
      });
      return { subscription, userErrors };
    },
  }),
  confirmSubscription: t.field({
    type: ConfirmSubscriptionPayload,
    description: 'Confirms a sign-up with the token from its confirmation e-mail.',
    args: { token: t.arg.string({ required: true, description: 'The token from the confirmation e-mail.' }) },
    resolve: async (_root, { token }, context) => {
      const subscription =
        token.length <= 200 ? await findSubscriptionByConfirmTokenHash(context.store.db, tokenHash(token)) : null;
      return subscription ? { subscription, userErrors: [] } : invalidToken();
    },
  }),
  unsubscribe: t.field({
    type: UnsubscribePayload,
    description: 'Takes a reader off a newsletter with the token from any of its e-mails.',
    args: { token: t.arg.string({ required: true, description: 'The token from the e-mail.' }) },
    resolve: async (_root, { token }, context) => {
      const subscription =
        token.length <= 200 ? await findSubscriptionByUnsubscribeTokenHash(context.store.db, tokenHash(token)) : null;
      return subscription ? { subscription, userErrors: [] } : invalidToken();
    },
  }),
}));
