import type { UserError } from '../errors/error-codes.ts';
import { confirmSignUp, signUp, type TokenResult, unsubscribe } from '../sign-ups/sign-ups.ts';
import { UserErrorRef } from './user-error.ts';
import type { Subscription } from '../store/model.ts';
import { findNewsletterBySlug } from '../store/newsletter.repository.ts';
import { countSubscriptions, listSubscriptions } from '../store/subscription.repository.ts';
import { connectionArgs, type CursorKind, pageWindow, toConnection, withTotalCount } from './pagination.ts';
import { builder } from './builder.ts';
import { NewsletterRef, NewsletterSubscriptionRef } from './refs.ts';

// The design's "Subscription" is NewsletterSubscription in the graph: GraphQL reserves the
// name Subscription for the root type of live operations.

const SubscriptionStatus = builder.enumType('SubscriptionStatus', {
  description: 'Where a sign-up stands.',
  values: {
    PENDING: { value: 'pending', description: 'Signed up; the owner of the address has not confirmed yet.' },
    ACTIVE: { value: 'active', description: 'Confirmed: the reader receives the newsletter.' },
    UNSUBSCRIBED: { value: 'unsubscribed', description: 'The reader has left the list.' },
  } as const,
});

builder.node(NewsletterSubscriptionRef, {
  description:
    "A reader's sign-up to a newsletter. Shown to whoever holds a token from its e-mails (confirm, unsubscribe) and to admins, never to a public query.",
  id: { resolve: (subscription) => subscription.publicId },
  // No public query reveals e-mails: only admins read a sign-up by id; to others it is null,
  // as if there were none.
  loadMany: (ids, context) => ids.map((id) => (context.viewer.role === 'admin' ? context.loaders.subscriptionByPublicId.load(id) : null)),
  fields: (t) => ({
    email: t.exposeString('email', { description: 'The address, trimmed, with its domain in lower case.' }),
    newsletter: t.field({
      type: NewsletterRef,
      description: 'The newsletter signed up to.',
      resolve: async (subscription, _args, context) => {
        const newsletter = await context.loaders.signUpNewsletter.load(subscription.newsletterId);
        if (!newsletter) throw new Error(`subscription ${subscription.publicId} names a missing newsletter`);
        return newsletter;
      },
    }),
    status: t.field({ type: SubscriptionStatus, description: 'Where the sign-up stands.', resolve: (s) => s.status }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When the reader signed up (in a `subscribe` response: when this request was made).',
      resolve: (s) => s.createdAt,
    }),
    confirmedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the reader confirmed, if they have.',
      resolve: (s) => s.confirmedAt,
    }),
  }),
});

interface SubscriptionPayload {
  subscription: Subscription | null;
  userErrors: UserError[];
}

function payloadType(name: string, description: string, subscriptionDescription: string) {
  return builder.objectRef<SubscriptionPayload>(name).implement({
    description,
    fields: (t) => ({
      subscription: t.field({
        type: NewsletterSubscriptionRef,
        nullable: true,
        description: subscriptionDescription,
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

const SubscribePayload = payloadType(
  'SubscribePayload',
  'The result of signing up. It is the same whether or not the address was on the list before: what happened is told to the address by e-mail.',
  'The sign-up as the caller may see it, unless the input had errors: PENDING until the owner of the address confirms, with `createdAt` the time of this request.',
);
const ConfirmSubscriptionPayload = payloadType(
  'ConfirmSubscriptionPayload',
  'The result of confirming a sign-up.',
  'The sign-up, ACTIVE, unless the token was refused.',
);
const UnsubscribePayload = payloadType('UnsubscribePayload', 'The result of unsubscribing.', 'The sign-up, UNSUBSCRIBED, unless the token was refused.');

const SubscribeInput = builder.inputType('SubscribeInput', {
  description: 'A sign-up: who, to which newsletter, and the consent the reader gave.',
  fields: (t) => ({
    email: t.string({ required: true, description: "The reader's e-mail address." }),
    newsletter: t.string({ required: true, description: 'The slug of the newsletter (see Query.newsletters).' }),
    website: t.string({
      required: false,
      description:
        'A honeypot: sign-up forms render this field hidden from people and pass it on. Bots fill it in; a sign-up with any value in it is answered as usual and nothing is recorded or sent.',
    }),
    source: t.string({
      required: false,
      description: 'Where the reader signed up, e.g. `article-footer` or `ios-app`: kept with the consent record. Default `api`.',
    }),
    consentVersion: t.string({
      required: false,
      description: 'The version of the consent wording the form showed: kept with the consent record. Default: the CONSENT_VERSION setting.',
    }),
  }),
});

const asPayload = (result: TokenResult): SubscriptionPayload =>
  'userErrors' in result ? { subscription: null, userErrors: result.userErrors } : { subscription: result.subscription, userErrors: [] };

const NewsletterSubscriptionConnection = withTotalCount(
  builder.connectionObject(
    { type: NewsletterSubscriptionRef, name: 'NewsletterSubscriptionConnection', description: 'A page of sign-ups.' },
    { name: 'NewsletterSubscriptionEdge', description: 'A sign-up and its cursor.' },
  ),
  'sign-ups',
);

const SIGNED_UP: CursorKind = { name: 'signed-up', parts: ['id'] };

builder.queryFields((t) => ({
  subscriptions: t.field({
    type: NewsletterSubscriptionConnection,
    authScopes: { admin: true },
    description: "A newsletter's sign-ups with their e-mails, oldest first. Admins only.",
    args: {
      newsletter: t.arg.string({ required: true, description: "The newsletter's slug." }),
      status: t.arg({ type: SubscriptionStatus, description: 'Only sign-ups that stand here.' }),
      ...connectionArgs,
    },
    resolve: async (_root, args, context) => {
      const window = pageWindow(args, SIGNED_UP, context);
      const newsletter = await findNewsletterBySlug(context.store.db, args.newsletter.slice(0, 200));
      const filter = { newsletterId: newsletter?.id ?? 0, status: args.status ?? null };
      const rows = newsletter
        ? await listSubscriptions(context.store.db, filter, { limit: window.limit, afterId: (window.after?.[0] as number | undefined) ?? null })
        : [];
      return toConnection(
        rows.map((node) => ({ node, key: [node.id] })),
        window,
        SIGNED_UP,
        async () => (newsletter ? countSubscriptions(context.store.db, filter) : 0),
      );
    },
  }),
}));

builder.mutationFields((t) => ({
  subscribe: t.field({
    type: SubscribePayload,
    description:
      'Signs a reader up to a newsletter and e-mails them a confirmation link (double opt-in). Signing up again sends a fresh link, or tells an active reader they are subscribed already; the response never says which.',
    args: { input: t.arg({ type: SubscribeInput, required: true, description: 'The sign-up.' }) },
    resolve: async (_root, { input }, context) => {
      const result = await signUp(context.signUps, {
        ...input,
        clientAddress: context.client.address,
        userAgent: context.client.userAgent,
        now: context.now,
      });
      if (!result.accepted) return { subscription: null, userErrors: result.userErrors };
      context.loaders.signUpNewsletter.prime(result.newsletter.id, result.newsletter);
      return { subscription: result.receipt, userErrors: [] };
    },
  }),
  confirmSubscription: t.field({
    type: ConfirmSubscriptionPayload,
    description: 'Confirms a sign-up with the token from its confirmation e-mail (the page the e-mail links to calls this). A token confirms once.',
    args: { token: t.arg.string({ required: true, description: 'The token from the confirmation e-mail.' }) },
    resolve: async (_root, { token }, context) => asPayload(await confirmSignUp(context.store, token, context.now)),
  }),
  unsubscribe: t.field({
    type: UnsubscribePayload,
    description: 'Takes a reader off a newsletter with the token from any of its e-mails. Unsubscribing twice is no error.',
    args: { token: t.arg.string({ required: true, description: 'The token from the e-mail.' }) },
    resolve: async (_root, { token }, context) => asPayload(await unsubscribe(context.store, token, context.now)),
  }),
}));
