// Loaded with `node --import` by tests/tracing.test.ts: prints each OpenTelemetry SDK or exporter
// module the process resolves, so a test can see what tracing loads (and that, off, it loads none).
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    if (/@opentelemetry\/(sdk-trace|exporter-trace-otlp-http|context-async-hooks)\//.test(resolved.url)) {
      process.stderr.write(`otel-sdk-loaded ${resolved.url}\n`);
    }
    return resolved;
  },
});
