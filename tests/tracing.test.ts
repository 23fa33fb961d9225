import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from './support/cli.ts';
import { createThrowawayStore, testDialect, type ThrowawayStore } from './support/store.ts';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
}
interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

/** A span as the test reads it: its attributes as a plain object. */
interface ReceivedSpan extends Omit<OtlpSpan, 'attributes'> {
  attributes: Record<string, string | number | boolean | undefined>;
  serviceName: string | undefined;
}

const attributeValue = (value: OtlpValue) => value.stringValue ?? (value.intValue === undefined ? value.boolValue : Number(value.intValue));
const attributesOf = (list: Array<{ key: string; value: OtlpValue }> = []) => Object.fromEntries(list.map(({ key, value }) => [key, attributeValue(value)]));

/** An OpenTelemetry collector's OTLP/HTTP trace endpoint, on a loopback port: it decodes what it is sent (JSON, gzipped or not). */
async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; contentTypes: string[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      contentTypes.push(String(request.headers['content-type']));
      const exported = JSON.parse(body.toString('utf8')) as ExportRequest;
      for (const resourceSpans of exported.resourceSpans ?? []) {
        const serviceName = attributesOf(resourceSpans.resource?.attributes)['service.name'] as string | undefined;
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) spans.push({ ...span, attributes: attributesOf(span.attributes), serviceName });
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 };

/** Node flags that print each OpenTelemetry SDK or exporter module the process resolves, to see what tracing loads. */
const REPORT_OTEL_SDK_LOADS = ['--import', new URL('./support/report-otel-loads.mjs', import.meta.url).href];

describe('OpenTelemetry traces', () => {
  let store: ThrowawayStore;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

  beforeAll(async () => {
    store = await createThrowawayStore();
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await store.drop();
  });

  it('with OTEL_EXPORTER_OTLP_ENDPOINT set, export spans of the HTTP request, the GraphQL operation and its phases, and the store statements, with the OpenTelemetry attribute names', async () => {
    const server: ServerProcess = await startServerProcess(
      {
        DATABASE_URL: store.databaseUrl,
        DEMO_CONTENT: '1',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'masthead-under-test',
      },
      undefined,
      undefined,
      { nodeArgs: REPORT_OTEL_SDK_LOADS },
    );
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    let status: number;
    try {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
        body: JSON.stringify({ query: 'query Byline { author(slug: "yuri-prasad") { name } latestIssue { number } }', operationName: 'Byline' }),
      });
      status = response.status;
      await response.text();
    } finally {
      // Stopping flushes the spans still batched.
      expect(await server.stop()).toBe(0);
    }
    expect(status).toBe(200);
    expect(server.output()).toMatch(/otel-sdk-loaded/);
    expect(receiver.contentTypes.every((type) => type.startsWith('application/json'))).toBe(true);

    const inTrace = receiver.spans.filter((span) => span.traceId === traceId);
    const http = inTrace.find((span) => span.kind === SPAN_KIND.SERVER);
    expect(http, 'the HTTP span continues the caller’s trace').toBeDefined();
    expect(http?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(http).toMatchObject({
      name: 'POST /graphql',
      serviceName: 'masthead-under-test',
      attributes: { 'http.request.method': 'POST', 'http.route': '/graphql', 'http.response.status_code': 200 },
    });

    const operation = inTrace.find((span) => span.attributes['graphql.operation.name'] === 'Byline');
    expect(operation).toMatchObject({ name: 'query Byline', parentSpanId: http?.spanId, attributes: { 'graphql.operation.type': 'query' } });
    expect(operation?.attributes['graphql.document']).toBe('query Byline { author(slug: "?") { name } latestIssue { number } }');

    const phases = inTrace.filter((span) => span.parentSpanId === operation?.spanId).map((span) => span.name);
    expect(phases).toEqual(expect.arrayContaining(['graphql.parse', 'graphql.validate', 'graphql.execute']));

    const execute = inTrace.find((span) => span.name === 'graphql.execute');
    const statements = inTrace.filter((span) => span.kind === SPAN_KIND.CLIENT);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.parentSpanId, `${statement.name} runs inside the execute span`).toBe(execute?.spanId);
      expect(statement.attributes['db.system']).toBe(testDialect === 'postgres' ? 'postgresql' : 'sqlite');
      expect(statement.attributes['db.query.text']).toMatch(/^\s*select\b/i);
      expect(statement.attributes['db.statement']).toBe(statement.attributes['db.query.text']);
      expect(String(statement.attributes['db.query.text'])).not.toContain('yuri-prasad');
    }
  });

  it('without it, load nothing of the OpenTelemetry SDK, export nothing and say nothing of traces', async () => {
    const before = receiver.spans.length;
    const server = await startServerProcess({ DATABASE_URL: store.databaseUrl }, undefined, undefined, { nodeArgs: REPORT_OTEL_SDK_LOADS });
    try {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ latestIssue { number } }' }),
      });
      expect(response.status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(receiver.spans.length).toBe(before);
    expect(server.output()).not.toMatch(/traces go to/);
    expect(server.output()).not.toMatch(/otel-sdk-loaded/);
  });
});
