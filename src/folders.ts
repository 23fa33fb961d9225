import fs from 'node:fs';
import path from 'node:path';

/**
 * Creates a folder and the missing ones above it, one level at a time. (A recursive mkdir
 * under /proc never returns on Node 20; a level at a time fails at once, saying why.)
 */
export function ensureFolder(folder: string): void {
  if (fs.existsSync(folder)) return;
  ensureFolder(path.dirname(folder));
  fs.mkdirSync(folder);
}
