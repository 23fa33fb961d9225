import { expect } from 'vitest';

/** What a stack trace, a source path or a serialised error looks like in a response. */
const LEAKS = [/\bat (?:async )?[\w$.<>[\] ]*\(?(?:file:\/\/)?\/[\w./@-]+:\d+:\d+/, /node_modules/, /\/src\//, /\.[cm]?[jt]s:\d+/, /"stack(?:trace)?"\s*:/i];

/** The response shows nothing of the server's insides: no stack frame, no source path. */
export function expectNoLeak(text: string): void {
  for (const leak of LEAKS) expect(text, "the response shows the server's insides").not.toMatch(leak);
}

export interface Answer {
  status: number;
  contentType: string | null;
  text: string;
}

export async function answerOf(response: Response): Promise<Answer> {
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

interface GraphQLBody {
  data?: unknown;
  errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }>;
}

/**
 * A GraphQL answer a client can act on: not a 5xx, JSON with `data` or `errors`, no masked
 * internal error (an input the server did not expect is a bug even when masked), and nothing of
 * the server's insides.
 */
export function expectGraphQLAnswer(answer: Answer): void {
  const excerpt = answer.text.slice(0, 600);
  expect(answer.status, excerpt).toBeLessThan(500);
  expectNoLeak(answer.text);
  expect(answer.contentType, excerpt).toMatch(/^application\/(?:graphql-response\+)?json/);
  const body = JSON.parse(answer.text) as GraphQLBody;
  expect(body.data !== undefined || Array.isArray(body.errors), excerpt).toBe(true);
  const internal = (body.errors ?? []).filter((error) => error.extensions?.code === 'INTERNAL_SERVER_ERROR' || error.message === 'Unexpected error.');
  expect(internal, excerpt).toEqual([]);
}

/**
 * Statements a server sent while answering requests, read from its `/metrics` text: every
 * statement less those sent outside any request (the change feed's tail and announcer, the
 * senders), which come when they will and are not any request's cost.
 */
export function requestStatements(metricsText: string): number {
  const read = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metricsText)?.[1]);
  return read('masthead_store_queries_total') - read('masthead_store_background_queries_total');
}
