import { listNewsletters } from '../store/newsletter.repository.ts';
import { builder } from './builder.ts';
import { ID_KEY, SLUG_KEY, resolveRepresentation } from './federation.ts';
import { NewsletterRef } from './refs.ts';

builder.node(NewsletterRef, {
  description: 'An e-mail newsletter that readers can sign up to, e.g. a daily morning briefing.',
  id: { resolve: (newsletter) => newsletter.id },
  loadMany: (ids, context) => ids.map((id) => context.loaders.newsletterById.load(Number(id))),
  fields: (t) => ({
    slug: t.exposeString('slug', { description: 'The name to sign up with: `subscribe(input: { newsletter })`.' }),
    name: t.exposeString('name', { description: 'The newsletter\'s name.' }),
    description: t.exposeString('description', { nullable: true, description: 'What it is and how often it comes.' }),
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
    description: 'Every newsletter, by name.',
    resolve: async (_root, _args, context) => {
      const newsletters = await listNewsletters(context.store.db);
      for (const newsletter of newsletters) context.loaders.newsletterById.prime(newsletter.id, newsletter);
      return newsletters;
    },
  }),
}));
