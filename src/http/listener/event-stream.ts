import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import type { GraphQLParams, YogaServerInstance } from 'graphql-yoga';
import type { Context } from '../../context.ts';
import { codedError } from '../../errors/coded-error.ts';
import type { GraphQLErrorCode } from '../../errors/error-codes.ts';
import { FeedCursor, LiveGroup, type LiveHub, LiveSession } from '../../live/live-hub.ts';
import type { Logger } from '../../logger.ts';
import type { ServerContext } from '../../yoga.ts';
import { clientAddress } from '../client-address.ts';
import { corsDecision, GUARDED_BY_LISTENER, type HttpRules, refusalBody } from '../http-rules.ts';
import { writeAnswer } from './request-body.ts';

// GraphQL over Server-Sent Events, "distinct connections" mode (the graphql-sse protocol): one
// operation per request, its results as `event: next` with `data:` JSON, then `event: complete`.
// Written here rather than by Yoga's SSE writer because every event carries the change feed's
// sequence as its `id:`, and a reconnect's Last-Event-ID replays from there.

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const COMPLETE = 'event: complete\ndata:\n\n';
const HEARTBEAT = ':\n\n';
/** A Last-Event-ID is a feed sequence: a whole number, at most 15 digits. */
const SEQUENCE = /^\d{1,15}$/;

export interface EventStreamOptions {
  yoga: YogaServerInstance<ServerContext, Context>;
  hub: LiveHub;
  rules: HttpRules;
  security: Record<string, string>;
  logger: Logger;
}

/** Whether the request asks for an event stream: `Accept: text/event-stream` (GET or POST). */
export function wantsEventStream(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return (req.method === 'GET' || req.method === 'POST') && accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

function requestOf(req: IncomingMessage): Request {
  const headers = req.headers;
  return {
    method: req.method,
    url: `http://${headers.host ?? 'localhost'}${req.url}`,
    headers: {
      get: (name: string) => {
        const value = headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
      has: (name: string) => headers[name.toLowerCase()] !== undefined,
      forEach: (callback: (value: string, name: string) => void) => {
        for (const [name, value] of Object.entries(headers)) if (value !== undefined) callback(Array.isArray(value) ? value.join(', ') : value, name);
      },
    },
  } as unknown as Request;
}

/** The replay point: the Last-Event-ID header, else the `lastEventId` query parameter (for clients that cannot set headers). */
function lastEventIdOf(req: IncomingMessage): { raw: string | null } {
  const header = req.headers['last-event-id'];
  if (typeof header === 'string') return { raw: header.trim() };
  const url = req.url ?? '';
  const query = url.indexOf('?');
  if (query === -1) return { raw: null };
  return { raw: new URLSearchParams(url.slice(query + 1)).get('lastEventId') };
}

export function createEventStreams({ yoga, hub, rules, security, logger }: EventStreamOptions) {
  const refuse = (res: ServerResponse, status: number, code: GraphQLErrorCode, message: string, headers: Record<string, string> = {}) =>
    writeAnswer(res, status, { ...JSON_HEADERS, ...security, ...headers }, refusalBody(code, message));

  const corsHeaders = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    if (origin === undefined) return {};
    const decision = corsDecision(rules, origin);
    return decision === false ? {} : { 'access-control-allow-origin': decision.origin, vary: 'origin' };
  };

  /** Serves one operation as an event stream; `params` as the pipeline read them. */
  return async function serveEventStream(req: IncomingMessage, res: ServerResponse, params: GraphQLParams): Promise<void> {
    const { raw } = lastEventIdOf(req);
    if (raw !== null && !SEQUENCE.test(raw)) {
      refuse(res, 400, 'BAD_LAST_EVENT_ID', `Last-Event-ID must be an event id this server sent (a whole number), got ${JSON.stringify(raw.slice(0, 100))}.`);
      return;
    }
    const address = clientAddress(
      req.socket.remoteAddress,
      typeof req.headers['x-forwarded-for'] === 'string' ? req.headers['x-forwarded-for'] : null,
      rules.trustProxyHops,
    );
    const admission = hub.admit(address);
    if (!admission.admitted) {
      if (admission.reason === 'server') {
        refuse(res, 503, 'TOO_MANY_STREAMS', `This server has ${hub.limits.maxStreams} open streams, its limit; try again shortly or another instance.`, {
          'retry-after': '5',
        });
      } else {
        refuse(res, 429, 'TOO_MANY_STREAMS', `This client has ${hub.limits.maxStreamsPerClient} open streams, the limit per client; close one first.`, {
          'retry-after': '5',
        });
      }
      return;
    }
    let group: LiveGroup | null = null;
    try {
      let cursor: number;
      if (raw === null) {
        cursor = await hub.feed.latestSeq();
      } else {
        cursor = Number(raw);
        const [oldest, latest] = await Promise.all([hub.feed.oldestSeq(), hub.feed.latestSeq()]);
        if (cursor > latest) {
          refuse(
            res,
            400,
            'BAD_LAST_EVENT_ID',
            `Last-Event-ID ${cursor} is ahead of this store's change feed (its latest is ${latest}): not an id this service sent.`,
          );
          return;
        }
        if (cursor < oldest - 1) {
          // The entries after it were pruned: replaying would skip some. Said as an error event.
          startStream(req, res);
          const error = codedError(
            'REPLAY_TOO_OLD',
            `Cannot replay from event ${cursor}: the change feed keeps entries from ${oldest} on (its retention has passed). Fetch the current state, then subscribe again without Last-Event-ID.`,
            { extensions: { oldestEventId: oldest } },
          );
          res.end(`event: next\ndata: ${JSON.stringify({ errors: [error] })}\n\n${COMPLETE}`);
          return;
        }
      }
      group = await joinGroup(req, res, params);
      if (group === null) return;
      await pump(req, res, new FeedCursor(hub.feed, cursor), group);
    } catch (error) {
      logger.error('internal error in an event stream:', error);
      if (!res.headersSent) refuse(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
      else res.destroy();
    } finally {
      if (group !== null) hub.leave(group);
      admission.release();
    }
  };

  /**
   * Runs the operation through Yoga (parse, validation, limits, the viewer); a subscription then
   * joins the group executing the same one, or starts it with this execution. Null when the
   * answer was written (a refusal, or a query's one result). A function of its own so that a
   * stream that joins keeps nothing of its own execution for its lifetime.
   */
  async function joinGroup(req: IncomingMessage, res: ServerResponse, params: GraphQLParams): Promise<LiveGroup | null> {
    const session = new LiveSession(hub);
    const serverContext = { req, [GUARDED_BY_LISTENER]: true, live: session };
    const result = await yoga.getResultForParams({ params, request: requestOf(req) }, serverContext as unknown as ServerContext & Context);
    if (!isAsyncIterable(result)) {
      const outcome = result as ExecutionResult;
      if (outcome.errors?.length) {
        // Refused before any event (parse, validation, limits): a plain GraphQL answer with its status.
        const status = statusOf(outcome.errors);
        writeAnswer(res, status, { ...JSON_HEADERS, ...security, ...corsHeaders(req) }, JSON.stringify(outcome));
        return null;
      }
      // A query or mutation asked over a stream: its one result, then complete.
      startStream(req, res);
      res.end(`event: next\ndata: ${JSON.stringify(outcome)}\n\n${COMPLETE}`);
      return null;
    }
    const own = result[Symbol.asyncIterator]();
    let started = false;
    try {
      const key = JSON.stringify([session.role, params.operationName ?? null, params.variables ?? null, params.query ?? null, params.extensions ?? null]);
      return hub.join(key, (id) => {
        started = true;
        return new LiveGroup(hub, key, id, session, own);
      });
    } finally {
      // Another stream's execution serves this one: this one is never started.
      if (!started) await own.return?.().catch(() => {});
    }
  }

  function startStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      connection: 'keep-alive',
      // Proxies that buffer (nginx) would hold events back.
      'x-accel-buffering': 'no',
      ...security,
      ...corsHeaders(req),
    });
    res.flushHeaders();
  }

  /** Writes the group's frame for each entry from the stream's cursor, with heartbeats, until either side ends. */
  async function pump(req: IncomingMessage, res: ServerResponse, feed: FeedCursor, group: LiveGroup): Promise<void> {
    startStream(req, res);
    res.write(HEARTBEAT);
    let ended = false;
    const end = (clean: boolean) => {
      if (ended) return;
      ended = true;
      feed.close();
      if (clean && !res.destroyed) res.end(COMPLETE);
      else res.destroy();
    };
    const untrack = hub.track({ end: () => end(true) });
    const heartbeat = setInterval(() => {
      if (!ended) write(HEARTBEAT);
    }, hub.limits.heartbeatMs);
    heartbeat.unref();
    res.once('close', () => {
      if (!ended) {
        ended = true;
        feed.close();
      }
    });
    const write = (chunk: string | Buffer): void => {
      res.write(chunk);
    };
    try {
      for await (const entry of feed.entries()) {
        if (ended) break;
        const frame = await group.frameFor(entry);
        if (ended) break;
        if (frame === null) continue;
        // The same bytes for every stream of the group: queued by reference, not copied.
        write(frame);
        // Past the cap, no more is taken from the feed until the reader catches up; one that does
        // not within the stall time is cut off (it resumes with Last-Event-ID and loses nothing).
        // So a stream holds at most the cap and one event.
        if (res.writableLength > hub.limits.maxBufferedBytes && !(await drained(res, hub.limits.stallMs))) {
          end(false);
          break;
        }
      }
      end(true);
    } finally {
      clearInterval(heartbeat);
      untrack();
    }
  }
}

/** Waits for the socket to take the buffered bytes; false if it does not within `timeoutMs` or closes. */
function drained(res: ServerResponse, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return value !== null && typeof value === 'object' && Symbol.asyncIterator in value;
}

function statusOf(errors: readonly unknown[]): number {
  for (const error of errors) {
    const status = (error as { extensions?: { http?: { status?: unknown } } }).extensions?.http?.status;
    if (typeof status === 'number' && status >= 400) return status;
  }
  return 400;
}
