const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const TIMESTAMP =
  /^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?(\d{1,2})\s+([a-z]{3})[a-z]*\.?,?\s+(\d{4}),?\s+(\d{1,2})[:.](\d{2})(?:\s+(bst|gmt|utc))?$/i;

// Made on first use: building it loads the time zone data, which only imports need.
let londonOffset: Intl.DateTimeFormat | undefined;

/** Minutes that UK clocks were ahead of UTC at this instant (0 in GMT, 60 in BST). */
function ukOffsetMinutes(epochMs: number): number {
  londonOffset ??= new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'shortOffset' });
  const name = londonOffset.formatToParts(epochMs).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-])(\d{1,2})(?::(\d{2}))?/.exec(name);
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  return match[1] === '-' ? -minutes : minutes;
}

/** Whether the line looks like a publication timestamp at all (it may still be out of range). */
export function looksLikeUkTimestamp(line: string): boolean {
  return TIMESTAMP.test(line.trim());
}

/**
 * A UK local publication time such as "Tue 17 Jul 2007, 19:46 BST", as an ISO UTC string.
 * BST is UTC+1 and GMT (or UTC) is UTC+0, as the label says; without a label, the clocks in
 * force in London on that day decide. The weekday, if any, is not checked. Returns a reason
 * string when the line is a timestamp that cannot be a real time.
 */
export function parseUkTimestamp(line: string): { iso: string } | { problem: string } {
  const match = TIMESTAMP.exec(line.trim());
  if (!match) return { problem: `not a timestamp: ${JSON.stringify(line)}` };
  const [, dayText, monthText, yearText, hourText, minuteText, zone] = match;
  const month = MONTHS.indexOf((monthText ?? '').toLowerCase());
  const day = Number(dayText);
  const year = Number(yearText);
  const hour = Number(hourText);
  const minute = Number(minuteText);
  const local = Date.UTC(year, month, day, hour, minute);
  const date = new Date(local);
  if (month < 0 || date.getUTCDate() !== day || date.getUTCMonth() !== month || hour > 23 || minute > 59) {
    return { problem: `${JSON.stringify(line.trim())} is not a real date and time` };
  }
  let offset: number;
  if (zone) {
    offset = zone.toUpperCase() === 'BST' ? 60 : 0;
  } else {
    offset = ukOffsetMinutes(local - ukOffsetMinutes(local) * 60_000);
  }
  return { iso: new Date(local - offset * 60_000).toISOString() };
}
