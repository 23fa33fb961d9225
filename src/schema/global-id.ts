import { GraphQLError } from 'graphql';
import { codedError } from '../errors/coded-error.ts';

/** The types whose ids this API issues: the types that implement Node (tests/hostile-queries.test.ts holds the two together). */
export const NODE_TYPES: ReadonlySet<string> = new Set(['Article', 'Author', 'Issue', 'Newsletter', 'NewsletterSubscription']);

function invalidId(globalID: string): GraphQLError {
  return codedError('BAD_USER_INPUT', `Invalid ID ${JSON.stringify(globalID.slice(0, 100))}: not an id that this API issued`);
}

/**
 * Reads a global id (base64 of `Type:key`) as the relay plugin hands it over. One that this API
 * cannot have issued (malformed, or naming a type that is not a node type, such as `Query` or
 * `article`) is BAD_USER_INPUT.
 */
export function decodeGlobalID(globalID: string): { typename: string; id: string } {
  if (globalID.length > 200 || !/^[A-Za-z0-9+/_-]+=*$/.test(globalID)) throw invalidId(globalID);
  const decoded = Buffer.from(globalID, 'base64').toString('utf8');
  // Sign-ups have random ids (hex); everything else counts up.
  const match = /^([A-Za-z]+):([1-9][0-9]{0,15}|[0-9a-f]{32})$/.exec(decoded);
  if (!match?.[1] || !match[2] || !NODE_TYPES.has(match[1])) throw invalidId(globalID);
  if (/^[1-9][0-9]*$/.test(match[2]) === (match[1] === 'NewsletterSubscription')) throw invalidId(globalID);
  return { typename: match[1], id: match[2] };
}

/** Whether a string is an id that this API issued (of any type): what decodeGlobalID reads without complaint. */
export function isIssuedId(globalID: string): boolean {
  try {
    decodeGlobalID(globalID);
    return true;
  } catch (error) {
    if (error instanceof GraphQLError) return false;
    throw error;
  }
}
