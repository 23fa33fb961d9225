import { looksLikeUkTimestamp, parseUkTimestamp } from './uk-time.ts';

/** What an article document says, ready to store. */
export interface ArticleDocument {
  publication: string;
  headline: string;
  /** Byline names in order; empty when the piece has no byline. */
  authors: string[];
  issueNumber: number | null;
  body: string[];
  standfirst: string | null;
  /** ISO 8601 UTC. */
  publishedAt: string;
  /** The newsletter that the document promotes, if any. */
  newsletter: { name: string; description: string | null } | null;
}

/** A document that cannot be read; the message says why, for the person who supplied it. */
export class DocumentError extends Error {
  override name = 'DocumentError';
}

const MAX_HEADLINE = 500;
const MAX_NAME = 200;
const MAX_ISSUE_NUMBER = 1_000_000_000;

const BYLINE = /^by\s+(.+)$/i;
const ISSUE = /^issue\s+no\.?\s*(\d+)$/i;
const ARTICLE_INFORMATION = /^article information$/i;
const SHARE = /^share this article$/i;
const APP_REMINDER = /^mobile users!/i;
const PROMOTION = /\bsubscribe\b.*?\b(?:our|the)\s+(.*?)\s*\bnewsletter\b\s*[:,-]?\s*['‘"“](.+?)['’"”]\s*[.!]?$/i;

/** "A and B", "A, B and C", "A, B, and C", "A & B": the names, in order, each once. */
export function splitByline(byline: string): string[] {
  const names = byline
    .split(/\s*,\s*(?:and\s+|&\s*)?|\s+and\s+|\s*&\s*/i)
    .map((name) => name.trim().replace(/\s+/g, ' '))
    .filter((name) => name !== '');
  return [...new Set(names)];
}

function parseIssueNumber(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_ISSUE_NUMBER) {
    throw new DocumentError(`issue number ${text} is out of range (1 to ${MAX_ISSUE_NUMBER})`);
  }
  return value;
}

function describeNewsletter(kind: string): string | null {
  const words = kind.trim().replace(/\s+/g, ' ');
  if (words === '') return null;
  return `A ${words.toLowerCase()} newsletter.`;
}

function isFurniture(line: string): boolean {
  return (
    ARTICLE_INFORMATION.test(line) ||
    SHARE.test(line) ||
    APP_REMINDER.test(line) ||
    ISSUE.test(line) ||
    looksLikeUkTimestamp(line) ||
    (line.length < 400 && PROMOTION.test(line))
  );
}

/**
 * Reads an article document: the publication's name; the headline; an optional byline
 * (`by A, B and C`); `Issue No. N`; body paragraphs separated by blank lines; then site
 * furniture (a newsletter promotion, `Article information`, the UK local publication time,
 * `Issue No. N` again, `Share this article`, an app reminder), which is not body.
 */
export function parseDocument(text: string): ArticleDocument {
  if (text.includes('\0')) throw new DocumentError('not a text document (it contains NUL bytes)');
  const lines = text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[\s\u00A0]+$/u, '').replace(/^[\s\u00A0]+/u, ''));

  let at = 0;
  const skipBlank = () => {
    while (at < lines.length && lines[at] === '') at++;
  };
  skipBlank();
  if (at >= lines.length) throw new DocumentError('the document is empty');
  const publication = lines[at++] ?? '';

  skipBlank();
  const headlineLines: string[] = [];
  while (at < lines.length && lines[at] !== '' && !BYLINE.test(lines[at] ?? '') && !ISSUE.test(lines[at] ?? '')) {
    headlineLines.push(lines[at++] ?? '');
  }
  const headline = headlineLines.join(' ').replace(/\s+/g, ' ');
  if (headline === '' || isFurniture(headline)) throw new DocumentError('no headline after the publication name');
  if (headline.length > MAX_HEADLINE) throw new DocumentError(`the headline is longer than ${MAX_HEADLINE} characters`);

  let authors: string[] = [];
  let headerIssue: number | null = null;
  for (;;) {
    skipBlank();
    const line = lines[at] ?? '';
    const byline = BYLINE.exec(line);
    const issue = ISSUE.exec(line);
    if (byline?.[1] && authors.length === 0) {
      authors = splitByline(byline[1]);
      const long = authors.find((name) => name.length > MAX_NAME);
      if (long) throw new DocumentError(`a byline name is longer than ${MAX_NAME} characters`);
    } else if (issue?.[1] && headerIssue === null) {
      headerIssue = parseIssueNumber(issue[1]);
    } else {
      break;
    }
    at++;
  }

  const body: string[] = [];
  let paragraph: string[] = [];
  const endParagraph = () => {
    if (paragraph.length > 0) body.push(paragraph.join(' ').replace(/\s+/g, ' '));
    paragraph = [];
  };
  let newsletter: ArticleDocument['newsletter'] = null;
  let publishedAt: string | null = null;
  let timestampProblem: string | null = null;
  let footerIssue: number | null = null;
  let inFooter = false;
  for (; at < lines.length; at++) {
    const line = lines[at] ?? '';
    if (line === '') {
      endParagraph();
      continue;
    }
    if (!isFurniture(line) && !inFooter) {
      paragraph.push(line);
      continue;
    }
    endParagraph();
    if (ARTICLE_INFORMATION.test(line)) inFooter = true;
    const promotion = line.length < 400 ? PROMOTION.exec(line) : null;
    if (promotion?.[2] && !newsletter) {
      newsletter = { name: promotion[2].trim(), description: describeNewsletter(promotion[1] ?? '') };
    }
    const issue = ISSUE.exec(line);
    if (issue?.[1] && footerIssue === null) footerIssue = parseIssueNumber(issue[1]);
    if (looksLikeUkTimestamp(line) && publishedAt === null) {
      const parsed = parseUkTimestamp(line);
      if ('iso' in parsed) publishedAt = parsed.iso;
      else timestampProblem = parsed.problem;
    }
  }
  endParagraph();

  if (publishedAt === null) {
    throw new DocumentError(timestampProblem ?? 'no publication time (a line such as "Tue 17 Jul 2007, 19:46 BST" after "Article information")');
  }
  if (body.length === 0) throw new DocumentError('no body paragraphs');
  if (headerIssue !== null && footerIssue !== null && headerIssue !== footerIssue) {
    throw new DocumentError(`the issue number is ${headerIssue} under the headline but ${footerIssue} in the footer`);
  }

  return {
    publication,
    headline,
    authors,
    issueNumber: headerIssue ?? footerIssue,
    body,
    standfirst: null,
    publishedAt,
    newsletter,
  };
}

/** Words in the body, counted as runs of letters and digits (with inner apostrophes and hyphens). */
export function countWords(paragraphs: readonly string[]): number {
  let count = 0;
  for (const paragraph of paragraphs) {
    count += paragraph.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu)?.length ?? 0;
  }
  return count;
}
