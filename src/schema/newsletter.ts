import { listNewsletters } from '../store/newsletter.repository.ts';
import type { SubscriberCounts } from '../store/subscription.repository.ts';
import { builder } from './builder.ts';
import { ID_KEY, SLUG_KEY, resolveRepresentation } from './federation.ts';
import { NewsletterRef } from './refs.ts';

const SubscriberCountsRef = builder.objectRef<SubscriberCounts>('SubscriberCounts').implement({
  description: "A newsletter's sign-ups by status.",
  fields: (t) => ({
    pending: t.exposeInt('pending', { description: 'Signed up, not confirmed yet.' }),
    active: t.exposeInt('active', { description: 'Confirmed: receiving the newsletter.' }),
    unsubscribed: t.exposeInt('unsubscribed', { description: 'Left the list.' }),
  }),
});

builder.node(NewsletterRef, {
  description: 'An e-mail newsletter that readers can sign up to, e.g. a daily morning briefing.',
  id: { resolve: (newsletter) => newsletter.id },
  loadMany: (ids, context) => ids.map((id) => context.loaders.newsletterById.load(Number(id))),
  fields: (t) => ({
    slug: t.exposeString('slug', { description: 'The name to sign up with: `subscribe(input: { newsletter })`.' }),
    name: t.exposeString('name', { description: "The newsletter's name." }),
    description: t.exposeString('description', { nullable: true, description: 'What it is and how often it comes.' }),
    subscriberCounts: t.field({
      type: SubscriberCountsRef,
      authScopes: { editor: true },
      description: 'How many sign-ups stand where. Editors only.',
      resolve: (newsletter, _args, context) => context.loaders.subscriberCounts.load(newsletter.id),
    }),
  }),
});

builder.asEntity(NewsletterRef, {
  key: [ID_KEY, SLUG_KEY],
  resolveReference: (representation, context) =>
    resolveRepresentation('Newsletter', representation, (id) => context.loaders.newsletterById.load(id), {
      field: 'slug',
      load: (slug) => context.loaders.newsletterBySlug.load(slug),
    }),
});

builder.queryFields((t) => ({
  newsletters: t.field({
    type: [NewsletterRef],
    description: 'Every newsletter readers can sign up to, by name. A newsletter that a scheduled piece promotes is listed once that piece is published.',
    resolve: async (_root, _args, context) => {
      const newsletters = await listNewsletters(context.store.db, context.now);
      for (const newsletter of newsletters) context.loaders.newsletterById.prime(newsletter.id, newsletter);
      return newsletters;
    },
  }),
}));
