// Every error code the server emits, with what it means: the codes of `userErrors` entries and
// the `extensions.code` of GraphQL errors. Sites emit them only through the makers
// (`userError` here, `codedError` in coded-error.ts, `refusalBody` in http/http-rules.ts), whose
// code parameters are typed from these tables. tests/error-codes.test.ts fails when src/ emits a
// code that is not here; docs/queries.md's tables are made from here (`npm run docs:errors`).

/** Codes of `userErrors` entries: mistakes a user can fix, returned as data (the schema lists them as `enum UserErrorCode`). */
export const USER_ERROR_CODES = {
  EMAIL_INVALID: 'The e-mail is not an address: one `@`, an ASCII dot-atom local part, a domain with a dot.',
  EMAIL_TOO_LONG: 'The e-mail is over 254 characters, or its local part over 64.',
  NEWSLETTER_NOT_FOUND: 'No newsletter has that slug (`Query.newsletters` lists them).',
  INPUT_INVALID: '`source` or `consentVersion` is not 1 to 100 printable ASCII characters.',
  RATE_LIMITED: 'Too many sign-ups from this client or for this address; the message says when to try again.',
  TOKEN_INVALID: 'The token is unknown, malformed, of the other kind, or revoked by an unsubscribe.',
  TOKEN_EXPIRED: 'The token is past its lifetime: sign up again for a new one.',
  TOKEN_USED: 'The confirmation token has confirmed already.',
  URL_INVALID: 'A webhook URL is not an absolute `http://` or `https://` URL without credentials, or is too long.',
  URL_REFUSED: 'A webhook URL resolves to a loopback, private or link-local address while `WEBHOOK_ALLOW_PRIVATE_ADDRESSES` is off.',
  EVENTS_INVALID: 'A webhook endpoint names no event type, or one that does not exist (the message lists them).',
  NAME_INVALID: "A webhook endpoint's name is not one line of at most the allowed length.",
  WEBHOOK_ENDPOINT_NOT_FOUND: 'No webhook endpoint has that id.',
} as const satisfies Record<string, string>;

export type UserErrorCode = keyof typeof USER_ERROR_CODES;

/** A GraphQL error code: its HTTP status (none: the answer is a 200 with the error beside its data), what it means, and who emits it. */
export interface GraphQLErrorCodeEntry {
  status: number | null;
  meaning: string;
  /** Emitted by graphql-yoga itself rather than by Masthead's code. */
  emittedBy?: 'graphql-yoga';
}

/** The `extensions.code` of every GraphQL error the server emits. */
export const GRAPHQL_ERROR_CODES = {
  BAD_REQUEST: {
    status: 400,
    meaning: 'The request is malformed: a body or parameter that is not JSON, no query, a mutation over GET, a batch that is too long.',
  },
  GRAPHQL_PARSE_FAILED: { status: 400, meaning: 'The document does not parse (or has more than `MAX_TOKENS` tokens).', emittedBy: 'graphql-yoga' },
  GRAPHQL_VALIDATION_FAILED: { status: 400, meaning: 'The document does not validate against the schema.', emittedBy: 'graphql-yoga' },
  BAD_USER_INPUT: {
    status: null,
    meaning:
      'A well-formed request asks for something impossible: `first` out of range, a bad cursor or id, a bad `DateTime`, a representation that cannot be a key.',
  },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'The request body is larger than `MAX_BODY_BYTES`.' },
  RATE_LIMITED: { status: 429, meaning: 'Too many requests from this client address or API key; `Retry-After` says when to try again.' },
  UNAUTHENTICATED: { status: 401, meaning: 'The `Authorization` header is not a live API key (malformed, unknown or revoked alike).' },
  FORBIDDEN: { status: null, meaning: "The field needs an editor's or admin's API key." },
  QUERY_TOO_DEEP: { status: 400, meaning: 'The query nests deeper than `MAX_DEPTH` (or too deeply to be parsed).' },
  TOO_MANY_ALIASES: { status: 400, meaning: 'The query uses more aliases than `MAX_ALIASES`.' },
  TOO_MANY_DIRECTIVES: { status: 400, meaning: 'The query uses more directives than `MAX_DIRECTIVES`.' },
  TOO_MANY_REPRESENTATIONS: { status: 400, meaning: 'One `_entities` call is given more representations than `MAX_REPRESENTATIONS`.' },
  QUERY_TOO_COSTLY: { status: 400, meaning: 'The query could return more objects than `MAX_COST`.' },
  FIELD_REPEATED_TOO_OFTEN: { status: 400, meaning: 'One field is asked more than `MAX_REPEATED_FIELD` times in one selection set.' },
  INTROSPECTION_DISABLED: { status: 400, meaning: 'With `INTROSPECTION=off`, an anonymous caller asked for `_service { sdl }`.' },
  COST_BUDGET_EXCEEDED: { status: 429, meaning: 'The API key has spent its cost budget for the window; `Retry-After` says when it refills.' },
  PERSISTED_QUERY_INVALID: { status: 400, meaning: 'The persisted query extension is malformed (the hash is not a string, or a documentId has no hash).' },
  PERSISTED_QUERY_NOT_FOUND: {
    status: 400,
    meaning: 'The trusted documents manifest has no such document (for an automatic persisted query: not registered yet, a 200 asking for the query).',
  },
  PERSISTED_QUERY_ONLY: { status: 400, meaning: 'With `TRUSTED_DOCUMENTS` set, an anonymous caller sent a query that is not a trusted document.' },
  PERSISTED_QUERY_HASH_MISMATCH: { status: 400, meaning: 'The query sent does not match its `sha256Hash`.' },
  STORE_UNAVAILABLE: { status: 503, meaning: 'The content store cannot be reached; `Retry-After: 5`.' },
  STORE_TIMEOUT: { status: 503, meaning: 'The content store took too long to answer; `Retry-After: 5`.' },
  SUBGRAPH_UNAVAILABLE: {
    status: null,
    meaning: '`masthead gateway`: a subgraph could not be reached or gave no GraphQL answer; its part of the answer is missing.',
  },
  SUBGRAPH_TIMEOUT: { status: null, meaning: '`masthead gateway`: a subgraph took too long; its part of the answer is missing.' },
  SUBSCRIPTION_NEEDS_EVENT_STREAM: {
    status: 406,
    meaning: 'A subscription was sent without `Accept: text/event-stream`: subscriptions are served over Server-Sent Events.',
  },
  BAD_LAST_EVENT_ID: { status: 400, meaning: '`Last-Event-ID` (or `lastEventId`) is not a whole number, or is ahead of the change feed.' },
  TOO_MANY_STREAMS: {
    status: 429,
    meaning: 'Too many open subscription streams: from this client (429, `LIVE_MAX_STREAMS_PER_CLIENT`) or on this server (503, `LIVE_MAX_STREAMS`).',
  },
  REPLAY_TOO_OLD: {
    status: null,
    meaning:
      'The replay point is older than the change feed keeps (`FEED_RETENTION`): sent as one event, then `complete`; `oldestEventId` says where the feed starts.',
  },
  INTERNAL_SERVER_ERROR: {
    status: 500,
    meaning: 'Anything unexpected: masked to the client as `Unexpected error.` and logged with detail (a 200 beside the data when other fields worked).',
  },
} as const satisfies Record<string, GraphQLErrorCodeEntry>;

export type GraphQLErrorCode = keyof typeof GRAPHQL_ERROR_CODES;

/** A mistake the user can fix, or a refusal they can wait out; `code` is stable. */
export interface UserError {
  field: string[] | null;
  message: string;
  code: UserErrorCode;
}

/** The one way to make a `userErrors` entry. */
export function userError(code: UserErrorCode, message: string, field: string[] | null = null): UserError {
  return { field, message, code };
}
