// `npm run dev`: the `masthead` command on the TypeScript sources, through tsx (which reloads it
// on change), instead of the compiled build that bin/masthead.js runs.
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
