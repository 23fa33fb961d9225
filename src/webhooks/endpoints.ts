import { randomBytes } from 'node:crypto';
import type { UserErrorCode } from '../errors/error-codes.ts';
import type { Store } from '../store/store.ts';
import { insertWebhookEndpoint, type WebhookEndpoint } from '../store/webhook.repository.ts';
import { checkReceiverHost, hostOf, RefusedReceiver } from './receiver-address.ts';

/** The events an endpoint may ask for. `cache.purge` is sent only to endpoints that ask for it. */
export const EVENT_TYPES = ['article.published', 'article.updated', 'article.withdrawn', 'issue.published', 'cache.purge'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What an endpoint hears when it names no events: every change, no purges. */
export const DEFAULT_EVENT_TYPES: readonly EventType[] = ['article.published', 'article.updated', 'article.withdrawn', 'issue.published'];

const MAX_URL_LENGTH = 2000;
const MAX_NAME_LENGTH = 200;

/** A mistake in what was asked: said to the CLI user or as a userError. */
export interface EndpointInputError {
  field: 'url' | 'events' | 'name';
  code: Extract<UserErrorCode, 'URL_INVALID' | 'URL_REFUSED' | 'EVENTS_INVALID' | 'NAME_INVALID'>;
  message: string;
}

/** Reads a list of event types (comma-separated, or given as a list); null for the default. */
export function parseEventTypes(raw: string | readonly string[] | null | undefined): EventType[] | EndpointInputError {
  if (raw === null || raw === undefined) return [...DEFAULT_EVENT_TYPES];
  const names = (typeof raw === 'string' ? raw.split(',') : [...raw]).map((name) => name.trim()).filter((name) => name !== '');
  const invalid = (message: string): EndpointInputError => ({ field: 'events', code: 'EVENTS_INVALID', message });
  if (names.length === 0) return invalid(`name at least one event type: ${EVENT_TYPES.join(', ')}`);
  if (names.length > 20) return invalid('name at most 20 event types');
  const types: EventType[] = [];
  for (const name of names) {
    const type = EVENT_TYPES.find((known) => known === name);
    if (type === undefined) return invalid(`unknown event type ${JSON.stringify(name.slice(0, 100))}: use ${EVENT_TYPES.join(', ')}`);
    if (!types.includes(type)) types.push(type);
  }
  return types;
}

/**
 * Reads a receiver's URL: http or https, with a host, no user or password, and (unless
 * WEBHOOK_ALLOW_PRIVATE_ADDRESSES) resolving only to public addresses. The delivery worker
 * checks the address again at each attempt: a name may resolve elsewhere later.
 */
export async function parseReceiverUrl(raw: string, allowPrivate: boolean): Promise<URL | EndpointInputError> {
  const invalid = (message: string): EndpointInputError => ({ field: 'url', code: 'URL_INVALID', message });
  const text = raw.trim();
  if (text === '') return invalid('the URL must not be empty');
  if (text.length > MAX_URL_LENGTH) return invalid(`the URL must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid(`not a URL: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return invalid(`the URL must be http:// or https://, got ${JSON.stringify(url.protocol)}`);
  if (url.username !== '' || url.password !== '') return invalid('the URL must not hold a user or password: authenticate receivers by the signature');
  if (url.hash !== '') return invalid('the URL must not have a #fragment');
  try {
    await checkReceiverHost(hostOf(url), allowPrivate);
  } catch (error) {
    if (error instanceof RefusedReceiver) return { field: 'url', code: 'URL_REFUSED', message: error.message };
    throw error;
  }
  return url;
}

/** A new endpoint's signing secret, as the Standard Webhooks specification writes it: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export type AddEndpointResult = { endpoint: WebhookEndpoint; secret: string } | { errors: EndpointInputError[] };

/** Adds a receiver after checking what was asked; its secret is returned this once. */
export async function addWebhookEndpoint(
  store: Store,
  input: { url: string; events?: string | readonly string[] | null; name?: string | null },
  allowPrivate: boolean,
): Promise<AddEndpointResult> {
  const errors: EndpointInputError[] = [];
  const name = input.name?.trim() ?? '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  if (name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
    errors.push({ field: 'name', code: 'NAME_INVALID', message: `the name must be one line of at most ${MAX_NAME_LENGTH} characters` });
  }
  const events = parseEventTypes(input.events);
  if (!Array.isArray(events)) errors.push(events);
  const url = await parseReceiverUrl(input.url, allowPrivate);
  if (!(url instanceof URL)) errors.push(url);
  if (errors.length > 0 || !(url instanceof URL) || !Array.isArray(events)) return { errors };
  const secret = newWebhookSecret();
  const endpoint = await insertWebhookEndpoint(store.db, { name: name === '' ? url.host : name, url: url.href, eventTypes: events, secret });
  return { endpoint, secret };
}
