import { codedError } from '../errors/coded-error.ts';
import { userError } from '../errors/error-codes.ts';
import type { UserError } from '../errors/error-codes.ts';
import {
  deleteWebhookEndpoint,
  enableWebhookEndpoint,
  findWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../store/webhook.repository.ts';
import { addWebhookEndpoint, EVENT_TYPES } from '../webhooks/endpoints.ts';
import { builder } from './builder.ts';
import { UserErrorRef } from './user-error.ts';

const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery').implement({
  description: 'One event sent (or being sent) to one webhook endpoint, with its last attempt.',
  fields: (t) => ({
    id: t.id({ description: "The delivery's number.", resolve: (d) => String(d.id) }),
    messageId: t.exposeString('messageId', { description: 'The `webhook-id` header: the same on every attempt.' }),
    eventType: t.exposeString('eventType', { description: 'The event, e.g. `article.published`.' }),
    feedSequence: t.exposeInt('feedSeq', { description: 'The change feed entry it tells of.' }),
    status: t.exposeString('status', { description: '`pending` (to be tried, or retried), `delivered` or `failed` (given up).' }),
    attempts: t.exposeInt('attempts', { description: 'Attempts made so far.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was queued.', resolve: (d) => d.createdAt }),
    lastAttemptAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was last tried.', resolve: (d) => d.lastAttemptAt }),
    lastStatus: t.exposeInt('lastStatus', { nullable: true, description: "The receiver's HTTP status at the last attempt; null when none came." }),
    lastDurationMs: t.exposeInt('lastDurationMs', { nullable: true, description: 'How long the last attempt took, in milliseconds.' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'What went wrong at the last attempt (a short excerpt).' }),
  }),
});

const WebhookEndpointRef = builder.objectRef<WebhookEndpoint>('WebhookEndpoint').implement({
  description: 'A receiver of webhooks: events of the types it asked for are POSTed to its URL, signed per Standard Webhooks.',
  fields: (t) => ({
    id: t.id({ description: "The endpoint's number (as `masthead webhooks list` shows it).", resolve: (e) => String(e.id) }),
    name: t.exposeString('name', { description: 'A name for people.' }),
    url: t.exposeString('url', { description: 'Where deliveries are POSTed.' }),
    eventTypes: t.exposeStringList('eventTypes', { description: 'The events it hears of.' }),
    enabled: t.exposeBoolean('enabled', { description: 'Whether deliveries go out; false once a run of failures switched it off.' }),
    failureRun: t.exposeInt('failureRun', { description: 'Failed attempts in a row.' }),
    disabledReason: t.exposeString('disabledReason', { nullable: true, description: 'Why it was switched off, if it is.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was added.', resolve: (e) => e.createdAt }),
    deliveries: t.field({
      type: [WebhookDeliveryRef],
      description: 'Its most recent deliveries, newest first.',
      args: { first: t.arg.int({ description: 'How many (1 to 100, default 20).' }) },
      resolve: (endpoint, args, context) => {
        const first = args.first ?? 20;
        if (first < 1 || first > 100) throw codedError('BAD_USER_INPUT', `first must be from 1 to 100, got ${first}`);
        return listWebhookDeliveries(context.store.db, endpoint.id, first);
      },
    }),
  }),
});

interface AddPayload {
  endpoint: WebhookEndpoint | null;
  secret: string | null;
  userErrors: UserError[];
}

const AddWebhookEndpointPayload = builder.objectRef<AddPayload>('AddWebhookEndpointPayload').implement({
  description: 'The endpoint added, and its signing secret, shown this once.',
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, nullable: true, description: 'The endpoint, unless the input had errors.', resolve: (p) => p.endpoint }),
    secret: t.exposeString('secret', { nullable: true, description: 'The signing secret (`whsec_` + base64): keep it, it is not shown again.' }),
    userErrors: t.field({ type: [UserErrorRef], description: 'What was wrong with the input; empty on success.', resolve: (p) => p.userErrors }),
  }),
});

interface EndpointPayload {
  endpoint: WebhookEndpoint | null;
  userErrors: UserError[];
}

const WebhookEndpointPayload = builder.objectRef<EndpointPayload>('WebhookEndpointPayload').implement({
  description: 'The endpoint acted on.',
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, nullable: true, description: 'The endpoint (as it was, when removed).', resolve: (p) => p.endpoint }),
    userErrors: t.field({ type: [UserErrorRef], description: 'What was wrong with the input; empty on success.', resolve: (p) => p.userErrors }),
  }),
});

const AddWebhookEndpointInput = builder.inputType('AddWebhookEndpointInput', {
  description: 'A receiver to add.',
  fields: (t) => ({
    url: t.string({ required: true, description: 'An http(s) URL resolving to a public address (unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES).' }),
    events: t.stringList({ required: false, description: `Event types, from ${EVENT_TYPES.join(', ')}. Default: all but cache.purge.` }),
    name: t.string({ required: false, description: 'A name for people. Default: the URL host.' }),
  }),
});

const notFound = (id: string): UserError => userError('WEBHOOK_ENDPOINT_NOT_FOUND', `There is no webhook endpoint ${JSON.stringify(id.slice(0, 50))}.`, ['id']);
const endpointNumber = (id: string): number | null => (/^[1-9][0-9]{0,9}$/.test(id) && Number(id) < 2 ** 31 ? Number(id) : null);

builder.queryFields((t) => ({
  webhookEndpoints: t.field({
    type: [WebhookEndpointRef],
    authScopes: { admin: true },
    description: 'Every webhook endpoint, oldest first. Admins only.',
    resolve: (_root, _args, context) => listWebhookEndpoints(context.store.db),
  }),
}));

builder.mutationFields((t) => ({
  addWebhookEndpoint: t.field({
    type: AddWebhookEndpointPayload,
    authScopes: { admin: true },
    description: 'Adds a webhook endpoint and returns its signing secret, this once. Admins only.',
    args: { input: t.arg({ type: AddWebhookEndpointInput, required: true, description: 'The receiver.' }) },
    resolve: async (_root, { input }, context) => {
      const added = await addWebhookEndpoint(
        context.store,
        { url: input.url, events: input.events ?? null, name: input.name ?? null },
        context.config.webhooks.allowPrivateAddresses,
      );
      if ('errors' in added)
        return { endpoint: null, secret: null, userErrors: added.errors.map((e) => ({ field: ['input', e.field], code: e.code, message: e.message })) };
      return { endpoint: added.endpoint, secret: added.secret, userErrors: [] };
    },
  }),
  removeWebhookEndpoint: t.field({
    type: WebhookEndpointPayload,
    authScopes: { admin: true },
    description: 'Removes a webhook endpoint and its deliveries. Admins only.',
    args: { id: t.arg.id({ required: true, description: "The endpoint's id." }) },
    resolve: async (_root, { id }, context) => {
      const number = endpointNumber(String(id));
      const endpoint = number === null ? null : await findWebhookEndpoint(context.store.db, number);
      if (number === null || endpoint === null || !(await deleteWebhookEndpoint(context.store.db, number)))
        return { endpoint: null, userErrors: [notFound(String(id))] };
      return { endpoint, userErrors: [] };
    },
  }),
  enableWebhookEndpoint: t.field({
    type: WebhookEndpointPayload,
    authScopes: { admin: true },
    description: 'Switches a webhook endpoint on again, its failures forgotten. Admins only.',
    args: { id: t.arg.id({ required: true, description: "The endpoint's id." }) },
    resolve: async (_root, { id }, context) => {
      const number = endpointNumber(String(id));
      if (number === null || !(await enableWebhookEndpoint(context.store.db, number))) return { endpoint: null, userErrors: [notFound(String(id))] };
      return { endpoint: await findWebhookEndpoint(context.store.db, number), userErrors: [] };
    },
  }),
}));
