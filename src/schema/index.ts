import { builder } from './builder.ts';
import { FEDERATION_SPEC, refuseNonEntities } from './federation.ts';
import './scalars.ts';
import './article.ts';
import './issue.ts';
import './author.ts';
import './newsletter.ts';
import './subscription.ts';
import './webhook.ts';
import './live.ts';

// The public graph alone (without `_service` and `_entities`) is built in public-schema.ts, for
// printing and the tests: the server serves only the subgraph schema, and building both kept a
// second copy of every type in its memory.

/**
 * What /graphql serves: the public graph plus Federation's `_service` and `_entities`, so that
 * any Federation 2 router can compose Masthead. Its SDL is printed in schema/subgraph.graphql.
 */
export const subgraphSchema = refuseNonEntities(builder.toSubGraphSchema({ linkUrl: FEDERATION_SPEC, federationDirectives: ['@key', '@shareable'] }));
