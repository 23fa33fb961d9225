/** A monotonically increasing Prometheus counter. */
export class Counter {
  private value = 0;
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(by = 1): void {
    this.value += by;
  }
  get(): number {
    return this.value;
  }
}

/** The process's counters, rendered in the Prometheus text exposition format on `/metrics`. */
export class Metrics {
  readonly storeQueries = new Counter('masthead_store_queries_total', 'Statements sent to the store.');
  readonly storeErrors = new Counter('masthead_store_errors_total', 'Statements that the store answered with an error.');
  readonly graphqlRequests = new Counter('masthead_graphql_requests_total', 'GraphQL operations executed.');
  readonly graphqlErrors = new Counter('masthead_graphql_internal_errors_total', 'Unexpected errors masked from clients while executing operations.');
  private readonly startedAt = Date.now();

  render(): string {
    const lines: string[] = [];
    for (const counter of [this.storeQueries, this.storeErrors, this.graphqlRequests, this.graphqlErrors]) {
      lines.push(`# HELP ${counter.name} ${counter.help}`, `# TYPE ${counter.name} counter`, `${counter.name} ${counter.get()}`);
    }
    const memory = process.memoryUsage();
    lines.push(
      '# HELP masthead_process_uptime_seconds Seconds since the process started serving.',
      '# TYPE masthead_process_uptime_seconds gauge',
      `masthead_process_uptime_seconds ${((Date.now() - this.startedAt) / 1000).toFixed(3)}`,
      '# HELP masthead_process_resident_memory_bytes Resident set size.',
      '# TYPE masthead_process_resident_memory_bytes gauge',
      `masthead_process_resident_memory_bytes ${memory.rss}`,
    );
    return `${lines.join('\n')}\n`;
  }
}
