// `npm run docs:settings`: writes the settings tables of docs/configuration.md and the README's
// defaults from the declarations in src/config.ts (see scripts/settings-docs.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { withGlanceDefaults, withSettingsTable } from './settings-docs.ts';

for (const [file, rewrite] of [
  ['docs/configuration.md', withSettingsTable],
  ['README.md', withGlanceDefaults],
] as const) {
  const target = new URL(`../${file}`, import.meta.url);
  const before = readFileSync(target, 'utf8');
  const after = rewrite(before);
  if (after !== before) writeFileSync(target, after);
  console.log(`${after === before ? 'unchanged' : 'wrote'} ${file}`);
}
