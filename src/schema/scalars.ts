import { codedError } from '../errors/coded-error.ts';
import { builder } from './builder.ts';
import { toIso } from '../store/model.ts';

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CANONICAL_ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;

// Both stores hold times from year 1 to year 9999 (PostgreSQL has no year 0, and SQLite compares
// times as text, which a six-digit year such as +010000 would sort wrongly): instants outside,
// also those that an offset moves outside, are refused as input.
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/** Whether a year, month and day name a day of the calendar: not 2023-06-31, not 2023-02-29. */
function isRealDate(year: number, month: number, day: number): boolean {
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * The instant that a canonical UTC ISO time (what Date#toISOString writes) names, when it is a
 * real one within years 1 to 9999; else null. Cursors carry times in this form.
 */
export function canonicalInstant(value: string): number | null {
  const match = CANONICAL_ISO.exec(value);
  if (!match) return null;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  if (!isRealDate(year ?? 0, month ?? 0, day ?? 0) || (hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) return null;
  const time = Date.parse(value);
  return time >= EARLIEST && time <= LATEST ? time : null;
}

/** An ISO 8601 date-time with an explicit offset, as a UTC ISO string; throws a client error otherwise. */
export function parseDateTime(value: unknown): string {
  const match = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  if (!match || typeof value !== 'string') {
    throw codedError(
      'BAD_USER_INPUT',
      `DateTime must be an ISO 8601 date-time with an offset, such as "2007-07-17T18:46:00Z"; got ${JSON.stringify(value)?.slice(0, 100)}`,
    );
  }
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const time = new Date(value);
  if (!isRealDate(year ?? 0, month ?? 0, day ?? 0) || (hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59 || Number.isNaN(time.getTime())) {
    throw codedError('BAD_USER_INPUT', `DateTime ${JSON.stringify(value)} is not a real point in time`);
  }
  if (time.getTime() < EARLIEST || time.getTime() > LATEST) {
    throw codedError('BAD_USER_INPUT', `DateTime ${JSON.stringify(value)} is outside the years 0001 to 9999 (UTC)`);
  }
  return time.toISOString();
}

export function parseDate(value: unknown): string {
  const match = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  if (!match || Number(match[1]) < 1 || !isRealDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
    throw codedError(
      'BAD_USER_INPUT',
      `Date must be an ISO 8601 calendar date from 0001-01-01 to 9999-12-31, such as "2007-07-21"; got ${JSON.stringify(value)?.slice(0, 100)}`,
    );
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
