import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { requestIdOf } from '../src/http/request-id.ts';
import { createLogger, type LoggerOptions, requestScope } from '../src/logger.ts';
import { testDialect } from './support/store.ts';

function capture(options: LoggerOptions): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ ...options, destination }) };
}

// The logger touches no store: the SQLite pass only.
describe.runIf(testDialect === 'sqlite')('the logger', () => {
  it('writes one JSON object a line, with the level, an ISO time, the message, the fields and the error with its stack', async () => {
    const { lines, logger } = capture({ format: 'json' });
    logger.child({ requestId: 'r-1' }).error('store failed:', new Error('connection reset'), { attempt: 2 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'error', msg: 'store failed:', requestId: 'r-1', attempt: 2, err: { type: 'Error', message: 'connection reset' } });
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
    expect((line.err as { stack: string }).stack).toMatch(/^Error: connection reset\n\s+at /);
  });

  it('writes TIME LEVEL message lines for people, fields after the message and a stack below', async () => {
    const { lines, logger } = capture({ format: 'text' });
    logger.child({ requestId: 'r-2' }).warn('slow answer', { ms: 1200 });
    logger.error(new Error('boom'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn slow answer requestId=r-2 ms=1200$/);
    expect(lines[1]).toMatch(/^\S+ error boom$/);
    expect(lines[2]).toBe('Error: boom');
  });

  it('leaves out what is below LOG_LEVEL, and everything when silent', async () => {
    const warnings = capture({ level: 'warn', format: 'text' });
    warnings.logger.debug('d');
    warnings.logger.info('i');
    warnings.logger.warn('w');
    const silent = capture({ level: 'silent', format: 'json' });
    silent.logger.error('e');
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.lines.map((line) => line.split(' ').slice(1).join(' '))).toEqual(['warn w']);
    expect(silent.lines).toEqual([]);
  });
});

describe.runIf(testDialect === 'sqlite')('request ids', () => {
  it('name every line logged while a request is served, also in work that request started', async () => {
    const { lines, logger } = capture({ format: 'json' });
    await requestScope.run({ requestId: 'req-7' }, async () => {
      logger.info('read');
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.warn('slow');
    });
    logger.info('outside');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => (JSON.parse(line) as { requestId?: string }).requestId)).toEqual(['req-7', 'req-7', undefined]);
  });

  it('come from X-Request-Id only behind a trusted proxy, and only when it is a plain token', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(requestIdOf('edge-42', 1)).toBe('edge-42');
    expect(requestIdOf('edge-42', 0)).toMatch(uuid);
    expect(requestIdOf(undefined, 1)).toMatch(uuid);
    for (const forged of ['', 'a b', 'x'.repeat(129), 'line\nbreak', '<script>']) expect(requestIdOf(forged, 1)).toMatch(uuid);
    expect(requestIdOf(['first', 'second'], 1)).toBe('first');
  });
});
