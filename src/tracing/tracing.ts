import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { TracingConfig } from '../config.ts';
import type { Logger } from '../logger.ts';

/**
 * OpenTelemetry traces, as the server uses them: made only when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set (src/tracing/otel-tracing.ts); with it unset the server holds `null` and imports nothing of
 * OpenTelemetry.
 */
export interface Tracing {
  /** Runs a request's handling inside its HTTP span; the span ends when the answer has gone. `route` names the path as the metrics do. */
  request(req: IncomingMessage, res: ServerResponse, route: string, handle: () => void): void;
  /** A Yoga plugin: a span per GraphQL operation, with spans for its parse, validate and execute phases. */
  plugin: Plugin;
  /** A store statement that has just run (from Kysely's log): a span that ends now, in the span that is active. */
  statement(sql: string, durationMs: number, failed: boolean): void;
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** Starts tracing when an endpoint is configured; null when it is not. */
export async function startTracing(config: TracingConfig, storeSystem: 'sqlite' | 'postgresql', logger: Logger): Promise<Tracing | null> {
  if (config.endpoint === null) return null;
  // Imported only when tracing is on: the OpenTelemetry SDK costs start-up time and memory that a
  // server without tracing should not pay.
  const { createOtelTracing } = await import('./otel-tracing.ts');
  const tracing = createOtelTracing(config, storeSystem, logger);
  logger.info(`traces go to ${config.endpoint} (OTLP over HTTP) as service ${config.serviceName}`);
  return tracing;
}
