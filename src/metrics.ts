import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds, from a millisecond duration. */
const seconds = (ms: number) => ms / 1000;

/** Buckets for requests and phases: 0.5 ms to 10 s. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A prom-client counter that also answers its value at once, for tests and the benchmark that count statements. */
export class Count {
  private value = 0;
  private readonly counter: Counter;
  constructor(registry: Registry, name: string, help: string) {
    this.counter = new Counter({ name, help, registers: [registry] });
  }
  inc(by = 1): void {
    this.value += by;
    this.counter.inc(by);
  }
  get(): number {
    return this.value;
  }
}

/** The GraphQL phases that are timed, by the names @graphql-yoga/plugin-prometheus gives their histograms. */
export type GraphQLPhase = 'parse' | 'validate' | 'context' | 'execute';

/**
 * The process's metrics, on one prom-client registry rendered at `/metrics`: counters of requests,
 * statements and errors, latency histograms of HTTP requests, GraphQL phases and store
 * statements, and Node's own process metrics. Each instance has its own registry, so that tests
 * and the benchmark can run several servers in one process.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly storeQueries = new Count(this.registry, 'masthead_store_queries_total', 'Statements sent to the store.');
  /** Of those, the ones sent outside any request: the change feed's tail and announcer, the senders, pruning. */
  readonly storeBackgroundQueries = new Count(
    this.registry,
    'masthead_store_background_queries_total',
    'Statements sent to the store outside any request (the change feed, the announcer, the mail and webhook senders).',
  );
  readonly storeErrors = new Count(this.registry, 'masthead_store_errors_total', 'Statements that the store answered with an error.');
  readonly graphqlRequests = new Count(this.registry, 'masthead_graphql_requests_total', 'GraphQL operations executed.');
  readonly graphqlErrors = new Count(
    this.registry,
    'masthead_graphql_internal_errors_total',
    'Unexpected errors masked from clients while executing operations.',
  );
  private readonly storeStatementDuration = new Histogram({
    name: 'masthead_store_statement_duration_seconds',
    help: 'Time from sending a statement to the store to its answer.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'graphql_yoga_http_duration',
    help: 'Time to answer an HTTP request, from its arrival to the end of the answer, by method, route and status.',
    labelNames: ['method', 'route', 'statusCode'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly phases: Record<GraphQLPhase, Histogram> = {
    parse: this.phaseHistogram('parse', 'Time to parse an operation (a cached document takes next to none).'),
    validate: this.phaseHistogram('validate', 'Time to validate an operation against the schema.'),
    context: this.phaseHistogram('context', "Time to build an operation's context (its viewer and loaders)."),
    execute: this.phaseHistogram('execute', 'Time to execute an operation, its store statements included.'),
  };

  /** @param options.process also Node's process metrics (CPU, memory, event loop, GC): the server's, not a CLI command's. */
  constructor(options: { process?: boolean } = {}) {
    if (options.process) collectDefaultMetrics({ register: this.registry });
    const startedAt = Date.now();
    new Gauge({
      name: 'masthead_process_uptime_seconds',
      help: 'Seconds since the process started serving.',
      registers: [this.registry],
      collect() {
        this.set(seconds(Date.now() - startedAt));
      },
    });
  }

  private phaseHistogram(phase: GraphQLPhase, help: string): Histogram {
    return new Histogram({ name: `graphql_envelop_phase_${phase}`, help, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  }

  observeStatement(ms: number): void {
    this.storeStatementDuration.observe(seconds(ms));
  }

  observePhase(phase: GraphQLPhase, ms: number): void {
    this.phases[phase].observe(seconds(ms));
  }

  observeHttp(method: string, route: string, statusCode: number, ms: number): void {
    this.httpDuration.observe({ method, route, statusCode }, seconds(ms));
  }

  /** The Prometheus text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
