import { badUserInput } from './errors.ts';
import { builder } from './builder.ts';
import { toIso } from '../store/model.ts';

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** An ISO 8601 date-time with an explicit offset, as a UTC ISO string; throws a client error otherwise. */
export function parseDateTime(value: unknown): string {
  const match = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  if (!match || typeof value !== 'string') {
    throw badUserInput(`DateTime must be an ISO 8601 date-time with an offset, such as "2007-07-17T18:46:00Z"; got ${JSON.stringify(value)?.slice(0, 100)}`);
  }
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const time = new Date(value);
  if (!isRealDate(year ?? 0, month ?? 0, day ?? 0) || (hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59 || Number.isNaN(time.getTime())) {
    throw badUserInput(`DateTime ${JSON.stringify(value)} is not a real point in time`);
  }
  return time.toISOString();
}

export function parseDate(value: unknown): string {
  const match = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  if (!match || !isRealDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
    throw badUserInput(`Date must be an ISO 8601 calendar date such as "2007-07-21"; got ${JSON.stringify(value)?.slice(0, 100)}`);
  }
  return match[0];
}

builder.scalarType('DateTime', {
  description: 'A point in time: ISO 8601 in UTC, e.g. "2007-07-17T18:46:00.000Z". Input may carry any offset.',
  serialize: (value) => toIso(value),
  parseValue: parseDateTime,
});

builder.scalarType('Date', {
  description: 'A calendar date: ISO 8601, e.g. "2007-07-21".',
  serialize: (value) => value,
  parseValue: parseDate,
});
