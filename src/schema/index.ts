import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import { FEDERATION_SPEC, refuseNonEntities } from './federation.ts';
import './scalars.ts';
import './article.ts';
import './issue.ts';
import './author.ts';
import './newsletter.ts';
import './subscription.ts';
import './live.ts';

/** The public graph that clients program against, printed in schema/schema.graphql. */
export const schema = lexicographicSortSchema(builder.toSchema());

/**
 * What /graphql serves: the public graph plus Federation's `_service` and `_entities`, so that
 * any Federation 2 router can compose Masthead. Its SDL is printed in schema/subgraph.graphql.
 */
export const subgraphSchema = refuseNonEntities(builder.toSubGraphSchema({ linkUrl: FEDERATION_SPEC, federationDirectives: ['@key', '@shareable'] }));
