import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/database.ts';

export interface DocumentParts {
  issue?: number;
  byline?: string;
  time?: string;
  body?: string;
  /** The file's name without `.txt`: writing the same name again replaces the file. @default a new number */
  name?: string;
}

/** A temporary folder of article documents in the format `masthead import` reads (CONTRACT.md). */
export class DocumentFolder {
  readonly path: string;
  #written = 0;

  constructor(prefix: string) {
    this.path = mkdtempSync(path.join(tmpdir(), prefix));
  }

  /** Writes a document and returns its file. */
  write(
    headline: string,
    { issue = 3400, byline = 'Marta Quinlan', time = 'Sat 10 Jan 2026, 12:00 GMT', body = 'A paragraph.', name }: DocumentParts = {},
  ): string {
    const file = path.join(this.path, `${name ?? ++this.#written}.txt`);
    writeFileSync(
      file,
      ['The Evening Ledger', headline, `by ${byline}\nIssue No. ${issue}`, body, 'Article information', `${time}\nShare this article`].join('\n\n'),
    );
    return file;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

let inserted = 0;

/** A piece inserted as an editor at a SQL prompt would, with no byline and no issue; returns its id. */
export async function insertPieceAtPrompt(db: Kysely<Database>, headline: string, publishedAt: string, status: 'published' | 'draft'): Promise<number> {
  const { id } = await db
    .insertInto('articles')
    .values({
      slug: `${headline.toLowerCase().replace(/\W+/g, '-')}-${++inserted}`,
      headline,
      standfirst: null,
      body: 'Text.',
      word_count: 1,
      issue_id: null,
      published_at: publishedAt,
      status,
      promoted_newsletter_id: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** The newest entry's sequence in the store's change feed (0 when it is empty). */
export async function latestFeedSeq(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('change_feed')
    .select((eb) => eb.fn.max('seq').as('max'))
    .executeTakeFirstOrThrow();
  return Number(row.max ?? 0);
}
