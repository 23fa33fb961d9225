import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { glanceDefaults, glanceRows, renderSettingsTable, TABLE_END, TABLE_START } from '../scripts/settings-docs.ts';
import { loadConfig, readSetting, SETTINGS, type SettingName } from '../src/config.ts';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

describe('the settings declared in src/config.ts', () => {
  it('are the table of docs/configuration.md, name for name and default for default (npm run docs:settings)', () => {
    const doc = read('docs/configuration.md');
    const start = doc.indexOf(TABLE_START);
    const end = doc.indexOf(TABLE_END);
    expect(start, 'docs/configuration.md keeps the markers of the generated table').toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    expect(doc.slice(start + TABLE_START.length, end).trim()).toBe(renderSettingsTable());
  });

  it("are what the README's settings at a glance names, with their declared defaults (npm run docs:settings)", () => {
    const rows = glanceRows(read('README.md'));
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) {
      expect(row.names.length, `README line ${row.line + 1} names a setting`).toBeGreaterThan(0);
      for (const name of row.names) expect(Object.keys(SETTINGS), `README line ${row.line + 1}`).toContain(name);
      expect(row.defaults, `README line ${row.line + 1}`).toBe(glanceDefaults(row.names));
    }
  });

  it('each read their documented plain default when unset or blank, and the same value when the default is written out', () => {
    for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
      const unset = readSetting(name, { env: {}, cwd: '/srv/masthead' });
      expect(readSetting(name, { env: { [name]: '  ' }, cwd: '/srv/masthead' }), name).toEqual(unset);
      const plain = /^`([^`]+)`(?: \(\d+ [KMG]iB\))?$/.exec(setting.defaultText)?.[1];
      if (typeof setting.default !== 'function' && setting.default !== null && plain !== undefined) {
        expect(readSetting(name, { env: { [name]: plain }, cwd: '/srv/masthead' }), name).toEqual(unset);
      }
    }
  });

  it('have a description each, and a default the docs can show', () => {
    for (const [name, setting] of Object.entries(SETTINGS)) {
      expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(setting.description.trim(), name).not.toBe('');
      expect(setting.defaultText.trim(), name).not.toBe('');
      expect(setting.description, `${name} fits one table row`).not.toContain('\n');
    }
  });

  it('are all read by loadConfig, which names the setting that is bad', () => {
    for (const name of Object.keys(SETTINGS)) {
      if (name === 'DATABASE_URL' || name === 'MAIL_DIR' || name === 'TRUSTED_DOCUMENTS') continue;
      expect(() => loadConfig({ [name]: '\u0001not a value\u0001' }), name).toThrow(new RegExp(`^${name} `));
    }
  });
});
