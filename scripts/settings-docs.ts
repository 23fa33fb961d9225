// The settings tables of the docs, made from the declarations in src/config.ts:
// docs/configuration.md's full table, and the defaults of the README's "Settings at a glance"
// (whose rows and wording are the README's own). scripts/write-settings-docs.ts writes them;
// tests/settings-docs.test.ts fails when a file disagrees.
import { SETTINGS, type SettingName } from '../src/config.ts';

export const TABLE_START = '<!-- settings table: generated from src/config.ts by `npm run docs:settings`; edit the declarations, not this table -->';
export const TABLE_END = '<!-- end of the generated settings table -->';

const cell = (text: string) => text.replaceAll('|', '\\|');

/** The Markdown table of every setting, in the order declared. */
export function renderSettingsTable(): string {
  const rows = Object.entries(SETTINGS).map(([name, setting]) => `| \`${name}\` | ${cell(setting.defaultText)} | ${cell(setting.description)} |`);
  return ['| setting | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** docs/configuration.md with its generated table replaced by the current one. */
export function withSettingsTable(doc: string): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`docs/configuration.md lacks the markers of the generated table (${TABLE_START} … ${TABLE_END})`);
  return `${doc.slice(0, start + TABLE_START.length)}\n${renderSettingsTable()}\n${doc.slice(end)}`;
}

/** A row of the README's glance table: the settings it names and the defaults it shows. */
export interface GlanceRow {
  line: number;
  names: string[];
  defaults: string;
}

/** The rows of the table under the README's "Settings at a glance" heading. */
export function glanceRows(readme: string): GlanceRow[] {
  const lines = readme.split('\n');
  const heading = lines.findIndex((line) => /^##\s+Settings at a glance\s*$/i.test(line));
  if (heading < 0) throw new Error('the README has no "Settings at a glance" section');
  const rows: GlanceRow[] = [];
  for (let index = heading + 1; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (line.startsWith('#')) break;
    if (!line.startsWith('|') || /^\|\s*-/.test(line) || /^\|\s*setting\s*\|/i.test(line)) continue;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1);
    rows.push({ line: index, names: [...(cells[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1] ?? ''), defaults: (cells[1] ?? '').trim() });
  }
  return rows;
}

/** What a glance row's default cell must say: each named setting's default, in order. */
export function glanceDefaults(names: string[]): string {
  return names
    .map((name) => {
      const setting = SETTINGS[name as SettingName];
      if (setting === undefined) throw new Error(`the README's settings at a glance names ${name}, which src/config.ts does not declare`);
      return cell(setting.defaultText);
    })
    .join(', ');
}

/** The README with each glance row's defaults made from the declarations. */
export function withGlanceDefaults(readme: string): string {
  const lines = readme.split('\n');
  for (const row of glanceRows(readme)) {
    const cells = (lines[row.line] ?? '').split(/(?<!\\)\|/);
    cells[2] = ` ${glanceDefaults(row.names)} `;
    lines[row.line] = cells.join('|');
  }
  return lines.join('\n');
}
