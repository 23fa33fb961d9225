import type { GraphQLError } from 'graphql';
import { badUserInput } from './errors.ts';

function invalidId(globalID: string): GraphQLError {
  return badUserInput(`Invalid ID ${JSON.stringify(globalID.slice(0, 100))}: not an id that this API issued`);
}

/** Reads a global id (base64 of `Type:key`) as the relay plugin hands it over; a malformed one is BAD_USER_INPUT. */
export function decodeGlobalID(globalID: string): { typename: string; id: string } {
  if (globalID.length > 200 || !/^[A-Za-z0-9+/_-]+=*$/.test(globalID)) throw invalidId(globalID);
  const decoded = Buffer.from(globalID, 'base64').toString('utf8');
  // Sign-ups have random ids (hex); everything else counts up.
  const match = /^([A-Za-z]+):([1-9][0-9]{0,15}|[0-9a-f]{32})$/.exec(decoded);
  if (!match?.[1] || !match[2]) throw invalidId(globalID);
  if (/^[1-9][0-9]*$/.test(match[2]) === (match[1] === 'NewsletterSubscription')) throw invalidId(globalID);
  return { typename: match[1], id: match[2] };
}
