// Masthead's schema and server with its loaders' batching switched off: every per-parent lookup
// is a statement of its own (N+1), to show what batching buys.
import { serveMasthead } from './masthead-server.ts';

await serveMasthead({ batch: false });
