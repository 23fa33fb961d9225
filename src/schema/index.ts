import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import './scalars.ts';
import './article.ts';
import './issue.ts';
import './author.ts';
import './newsletter.ts';
import './subscription.ts';

export const schema = lexicographicSortSchema(builder.toSchema());
