import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { slugify } from '../slug.ts';
import {
  type ArticleFields,
  findArticleByIdentity,
  findBylineAuthorIds,
  findTakenArticleSlugs,
  insertArticle,
  updateArticle,
} from '../store/article.repository.ts';
import { upsertAuthor } from '../store/author.repository.ts';
import { withFeedBatch } from '../store/change-feed.repository.ts';
import type { Database } from '../store/database.ts';
import { upsertIssue } from '../store/issue.repository.ts';
import { adjustPublishedArticles, refreshAuthorTotals } from '../store/totals.repository.ts';
import { PARAGRAPH_SEPARATOR } from '../store/model.ts';
import { upsertNewsletter } from '../store/newsletter.repository.ts';
import type { Store } from '../store/store.ts';
import { type ArticleDocument, countWords, DocumentError, parseDocument } from './parse-document.ts';

export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;
const DOCUMENT_EXTENSIONS = new Set(['.txt']);

export type ImportOutcome = 'created' | 'updated' | 'unchanged';

export interface ImportReport {
  files: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: Array<{ path: string; reason: string }>;
  /** What a folder holds that looks like a document but is not read, and why (not a failure). */
  skipped: Array<{ path: string; reason: string }>;
}

function reasonFor(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' ? 'permission denied' : String(error);
}

/**
 * The documents that the given paths name: files as given, folders searched for `*.txt`, in name
 * order. In a folder, a symbolic link named `*.txt` is followed to the file it leads to (reading
 * it gives nothing that naming the file would not); one that leads nowhere fails. A symbolic
 * link to a folder is not followed (links can make loops): it is skipped, and named. So is a
 * `*.txt` that is not a regular file (a pipe or a device would never end).
 */
export async function collectDocumentPaths(
  paths: readonly string[],
): Promise<{ files: string[]; failed: ImportReport['failed']; skipped: ImportReport['skipped'] }> {
  const files: string[] = [];
  const failed: ImportReport['failed'] = [];
  const skipped: ImportReport['skipped'] = [];
  const walk = async (folder: string) => {
    const entries = await readdir(folder, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(folder, entry.name);
      const document = DOCUMENT_EXTENSIONS.has(path.extname(entry.name).toLowerCase());
      if (entry.isDirectory()) await walk(full);
      else if (entry.isSymbolicLink()) {
        let target: Awaited<ReturnType<typeof stat>>;
        try {
          target = await stat(full);
        } catch (error) {
          if (document) failed.push({ path: full, reason: `a symbolic link that leads nowhere: ${reasonFor(error)}` });
          continue;
        }
        if (target.isDirectory()) skipped.push({ path: full, reason: 'a symbolic link to a folder, not followed: name the folder to import it' });
        else if (!document) continue;
        else if (target.isFile()) files.push(full);
        else skipped.push({ path: full, reason: 'a symbolic link to something that is not a regular file' });
      } else if (!document) continue;
      else if (entry.isFile()) files.push(full);
      else skipped.push({ path: full, reason: 'not a regular file' });
    }
  };
  for (const given of paths) {
    try {
      const info = await stat(given);
      if (info.isDirectory()) await walk(given);
      else if (info.isFile()) files.push(given);
      else failed.push({ path: given, reason: 'not a file or folder' });
    } catch (error) {
      failed.push({ path: given, reason: reasonFor(error) });
    }
  }
  return { files, failed, skipped };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readDocument(file: string): Promise<ArticleDocument> {
  const info = await stat(file);
  if (info.size > MAX_DOCUMENT_BYTES) {
    throw new DocumentError(`larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB: not an article document`);
  }
  const bytes = await readFile(file);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new DocumentError('not valid UTF-8 text');
  }
  return parseDocument(text);
}

/** A slug for `text` not yet taken by another article: `base`, else `base-2`, `base-3`, … */
async function freeArticleSlug(db: Kysely<Database>, text: string): Promise<string> {
  const base = slugify(text) || 'article';
  const taken = await findTakenArticleSlugs(db, base);
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

/**
 * Stores one document in one transaction. The same piece (same headline and publication time)
 * is updated in place, keeping its id and slug; identical content changes nothing.
 */
export async function storeDocument(store: Store, document: ArticleDocument): Promise<ImportOutcome> {
  return store.db.transaction().execute((trx) => withFeedBatch(trx, store.dialect, () => storeDocumentIn(trx, document)));
}

async function storeDocumentIn(trx: Kysely<Database>, document: ArticleDocument): Promise<ImportOutcome> {
  {
    const issueId = document.issueNumber === null ? null : await upsertIssue(trx, document.issueNumber, null);
    const newsletterId = document.newsletter
      ? await upsertNewsletter(trx, {
          slug: slugify(document.newsletter.name) || 'newsletter',
          name: document.newsletter.name,
          description: document.newsletter.description,
        })
      : null;
    const authorIds: number[] = [];
    for (const name of document.authors) {
      const id = await upsertAuthor(trx, slugify(name) || 'author', name);
      if (!authorIds.includes(id)) authorIds.push(id);
    }
    const fields: ArticleFields = {
      headline: document.headline,
      standfirst: document.standfirst,
      body: document.body.join(PARAGRAPH_SEPARATOR),
      word_count: countWords(document.body),
      issue_id: issueId,
      published_at: document.publishedAt,
      status: 'published',
      promoted_newsletter_id: newsletterId,
    };
    const existing = await findArticleByIdentity(trx, document.headline, document.publishedAt);

    if (!existing) {
      await insertArticle(trx, { ...fields, slug: await freeArticleSlug(trx, document.headline) }, authorIds);
      await refreshAuthorTotals(trx, authorIds);
      await adjustPublishedArticles(trx, fields.status === 'published' ? 1 : 0);
      return 'created';
    }

    const bylines = await findBylineAuthorIds(trx, existing.id);
    const sameByline = bylines.length === authorIds.length && bylines.every((authorId, index) => authorId === authorIds[index]);
    const sameContent =
      existing.standfirst === fields.standfirst &&
      existing.body === fields.body &&
      existing.issueId === fields.issue_id &&
      existing.status === fields.status &&
      existing.promotedNewsletterId === fields.promoted_newsletter_id;
    if (sameByline && sameContent) return 'unchanged';

    await updateArticle(trx, existing.id, fields, authorIds);
    await refreshAuthorTotals(trx, [...new Set([...bylines, ...authorIds])]);
    await adjustPublishedArticles(trx, (fields.status === 'published' ? 1 : 0) - (existing.status === 'published' ? 1 : 0));
    return 'updated';
  }
}

export interface ImportOptions {
  /** Called after each document with how many are done and how many there are. */
  onProgress?: (done: number, total: number) => void;
}

/** Imports every document the paths name; a bad document is reported and the rest still land. */
export async function importDocuments(store: Store, paths: readonly string[], options: ImportOptions = {}): Promise<ImportReport> {
  const { files, failed, skipped } = await collectDocumentPaths(paths);
  const report: ImportReport = { files: files.length, created: 0, updated: 0, unchanged: 0, failed, skipped };
  for (const [index, file] of files.entries()) {
    try {
      const outcome = await storeDocument(store, await readDocument(file));
      report[outcome]++;
    } catch (error) {
      if (error instanceof DocumentError) {
        report.failed.push({ path: file, reason: error.message });
      } else {
        const code = (error as NodeJS.ErrnoException).code;
        report.failed.push({ path: file, reason: code === 'EACCES' ? 'permission denied' : `could not be stored: ${String(error)}` });
      }
    }
    options.onProgress?.(index + 1, files.length);
  }
  return report;
}
