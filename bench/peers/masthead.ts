// Masthead, as served (see masthead-server.ts).
import { serveMasthead } from './masthead-server.ts';

await serveMasthead();
