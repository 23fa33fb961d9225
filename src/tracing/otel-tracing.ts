import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Context as TraceContext, context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { type DocumentNode, type GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { TracingConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Tracing } from './tracing.ts';

/** The longest document or statement text a span carries; longer is cut (an attribute is kept in memory until exported). */
const MAX_TEXT = 4096;

/** Spans waiting for export; past it new spans are dropped (the SDK's bound), not queued without end. */
const MAX_QUEUED_SPANS = 2048;

/**
 * A document as a span may carry it: string literals replaced by "?", since a mutation may carry an
 * e-mail address inline (`subscribe(input: { email: "…" })`) and traces are not for personal data.
 * A regular expression rather than a parse and print: this runs on every traced operation.
 */
export function sanitizeDocument(source: string): string {
  return source
    .replace(/"""[\s\S]*?"""/g, '"?"')
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '"?"')
    .slice(0, MAX_TEXT);
}

interface Operation {
  span: Span;
  context: TraceContext;
  ended: boolean;
}

/**
 * The GraphQL spans, written here rather than taken from @envelop/opentelemetry: that plugin (9.2)
 * makes one execute span with its own attribute names (`graphql.execute.operationName`), no parse
 * or validate spans, and pulls in a second, older OpenTelemetry SDK; these follow the OpenTelemetry
 * GraphQL conventions (`graphql.operation.name`, `graphql.operation.type`, `graphql.document`).
 */
function graphqlPlugin(tracer: ReturnType<TracerProvider['getTracer']>): Plugin {
  const operations = new WeakMap<object, Operation>();
  const byRequest = new WeakMap<Request, Operation[]>();

  const operationOf = (graphqlContext: object): Operation => {
    let operation = operations.get(graphqlContext);
    if (operation === undefined) {
      const parent = context.active();
      const { params, request } = graphqlContext as { params?: { query?: string }; request?: Request };
      const span = tracer.startSpan('GraphQL operation', {
        kind: SpanKind.INTERNAL,
        attributes: typeof params?.query === 'string' ? { 'graphql.document': sanitizeDocument(params.query) } : {},
      });
      operation = { span, context: trace.setSpan(parent, span), ended: false };
      operations.set(graphqlContext, operation);
      if (request) byRequest.set(request, [...(byRequest.get(request) ?? []), operation]);
    }
    return operation;
  };

  const describe = (operation: Operation, document: DocumentNode, operationName: string | null | undefined) => {
    const definition = getOperationAST(document, operationName);
    if (!definition) return;
    const name = definition.name?.value;
    operation.span.setAttribute('graphql.operation.type', definition.operation);
    if (name) operation.span.setAttribute('graphql.operation.name', name);
    operation.span.updateName(name ? `${definition.operation} ${name}` : definition.operation);
  };

  const end = (operation: Operation, errors?: readonly GraphQLError[] | readonly unknown[]) => {
    if (operation.ended) return;
    operation.ended = true;
    if (errors && errors.length > 0) operation.span.setStatus({ code: SpanStatusCode.ERROR, message: String((errors[0] as Error).message).slice(0, 200) });
    operation.span.end();
  };

  const phase = (operation: Operation, name: string) => tracer.startSpan(name, { kind: SpanKind.INTERNAL }, operation.context);

  return {
    onParse({ context: graphqlContext }) {
      const operation = operationOf(graphqlContext);
      const span = phase(operation, 'graphql.parse');
      return ({ result }) => {
        if (result instanceof Error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.message.slice(0, 200) });
          end(operation, [result]);
        } else if (result) {
          describe(operation, result, (graphqlContext as { params?: { operationName?: string } }).params?.operationName);
        }
        span.end();
      };
    },
    onValidate({ context: graphqlContext }) {
      const operation = operationOf(graphqlContext);
      const span = phase(operation, 'graphql.validate');
      return ({ valid, result }) => {
        if (!valid) span.setStatus({ code: SpanStatusCode.ERROR, message: String(result[0]?.message ?? '').slice(0, 200) });
        span.end();
        if (!valid) end(operation, result);
      };
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const operation = operationOf(args.contextValue as object);
      describe(operation, args.document, args.operationName);
      const span = phase(operation, 'graphql.execute');
      const executing = trace.setSpan(operation.context, span);
      // Last among the plugins, so this wraps whichever execute function runs: the store's spans
      // start inside the execute span.
      setExecuteFn((executionArgs) => context.with(executing, () => executeFn(executionArgs)));
      return {
        onExecuteDone({ result }) {
          const errors = 'errors' in result ? result.errors : undefined;
          if (errors && errors.length > 0) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
          end(operation, errors);
        },
      };
    },
    onResultProcess({ request }) {
      // Operations that a plugin answered before execution (a limit, a cached answer) end here.
      for (const operation of byRequest.get(request) ?? []) end(operation);
      byRequest.delete(request);
    },
  };
}

/** The OpenTelemetry SDK, set up for the server: OTLP over HTTP (JSON), spans batched and bounded. */
export function createOtelTracing(config: TracingConfig, storeSystem: 'sqlite' | 'postgresql', logger: Logger): Tracing {
  if (config.endpoint === null) throw new Error('tracing needs OTEL_EXPORTER_OTLP_ENDPOINT');
  const exporter = new OTLPTraceExporter({ url: `${config.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter, maxQueueSize: MAX_QUEUED_SPANS })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const tracer = provider.getTracer('masthead');

  return {
    request(req: IncomingMessage, res: ServerResponse, route: string, handle: () => void) {
      // A caller's `traceparent` makes this request a part of its trace.
      const parent = propagation.extract(context.active(), req.headers);
      const method = req.method ?? 'GET';
      const span = tracer.startSpan(
        `${method} ${route}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': route, 'url.path': (req.url ?? '/').split('?')[0] ?? '/' } },
        parent,
      );
      res.once('close', () => {
        const status = res.headersSent ? res.statusCode : 0;
        span.setAttribute('http.response.status_code', status);
        if (status >= 500 || status === 0) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      context.with(trace.setSpan(parent, span), handle);
    },
    plugin: graphqlPlugin(tracer),
    statement(sql: string, durationMs: number, failed: boolean) {
      const text = sql.slice(0, MAX_TEXT);
      const span = tracer.startSpan(text.trimStart().split(/\s/, 1)[0]?.toUpperCase() || 'statement', {
        kind: SpanKind.CLIENT,
        startTime: performance.timeOrigin + performance.now() - durationMs,
        // Both names: db.query.text is the current convention, db.statement what older backends read.
        attributes: { 'db.system': storeSystem, 'db.system.name': storeSystem, 'db.query.text': text, 'db.statement': text },
      });
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
    async shutdown() {
      await provider.shutdown().catch((error: unknown) => logger.warn('traces could not all be exported at shutdown:', error));
    },
  };
}
