import { slugify } from '../slug.ts';
import { PARAGRAPH_SEPARATOR } from '../store/model.ts';
import { countWords } from '../importer/parse-document.ts';
import { CONNECTIVES, FIRST_NAMES, LAST_NAMES, OBJECTS, PLACES, SENTENCE_WORDS, SUBJECTS, VERBS } from './words.ts';

export interface CorpusSize {
  issues: number;
  authors: number;
  articles: number;
  /** The random seed: the same sizes and seed always make the same corpus. @default 1 */
  seed?: number;
}

/** The last issue of a synthetic corpus comes out on this day; earlier ones weekly before it. */
const LAST_ISSUE_DAY = Date.UTC(2026, 10, 18);
const WEEK = 7 * 24 * 3600 * 1000;
export const FIRST_ISSUE_NUMBER = 1001;

/** A small, fast, seedable PRNG (mulberry32): deterministic across runs and machines. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedIssue {
  number: number;
  publishedOn: string;
}
export interface SeedAuthor {
  slug: string;
  name: string;
}
export interface SeedArticle {
  slug: string;
  headline: string;
  body: string;
  wordCount: number;
  /** Index into the issues, or null for a web-only piece. */
  issue: number | null;
  publishedAt: string;
  status: 'published' | 'draft';
  /** Indexes into the authors, in byline order. */
  authors: number[];
}

export const DEMO_NEWSLETTERS = [
  { slug: 'breakfast-in-red', name: 'Breakfast in red', description: 'A daily morning e-mail briefing.' },
  { slug: 'weekend-reads', name: 'Weekend reads', description: "The week's best long reads, every Saturday morning." },
];

export function issueAt(index: number, count: number): SeedIssue {
  const day = new Date(LAST_ISSUE_DAY - (count - 1 - index) * WEEK);
  return { number: FIRST_ISSUE_NUMBER + index, publishedOn: day.toISOString().slice(0, 10) };
}

/** Authors' names: first and last names paired, then with middle initials when more are needed. */
export function authorAt(index: number): SeedAuthor {
  const pairs = FIRST_NAMES.length * LAST_NAMES.length;
  const pair = (index * 7919) % pairs;
  const first = FIRST_NAMES[pair % FIRST_NAMES.length] ?? 'Alex';
  const last = LAST_NAMES[Math.floor(pair / FIRST_NAMES.length)] ?? 'Smith';
  const round = Math.floor(index / pairs);
  const middle = round === 0 ? '' : ` ${String.fromCharCode(64 + ((round - 1) % 26) + 1)}.${round > 26 ? ` ${round}` : ''}`;
  const name = `${first}${middle} ${last}`;
  return { slug: slugify(name), name };
}

const pick = <T>(next: () => number, items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;

function sentence(next: () => number): string {
  const words: string[] = [];
  const length = 8 + Math.floor(next() * 10);
  for (let i = 0; i < length; i++) words.push(pick(next, SENTENCE_WORDS));
  if (next() < 0.3) words.splice(3, 0, pick(next, CONNECTIVES));
  const text = words.join(' ');
  return `${text[0]?.toUpperCase()}${text.slice(1)}.`;
}

/**
 * Generates the corpus one article at a time, so that a million articles never sit in memory
 * at once. Pieces spread over the issues' weeks; some are web-only, a few are drafts; most have
 * one author, some several, a few none; some authors are far more prolific than others.
 */
export function* generateArticles(size: CorpusSize): Generator<SeedArticle> {
  const next = random(size.seed ?? 1);
  for (let index = 0; index < size.articles; index++) {
    const webOnly = size.issues === 0 || next() < 0.05;
    const issue = webOnly ? null : Math.floor((index * size.issues) / Math.max(size.articles, 1));
    const issueDay = issueAt(issue ?? Math.floor(next() * Math.max(size.issues, 1)), Math.max(size.issues, 1));
    const publishedAt = new Date(Date.parse(`${issueDay.publishedOn}T00:00:00.000Z`) - Math.floor(next() * WEEK * 0.9));
    // Milliseconds from the index keep (headline, publication time), a piece's identity, unique.
    publishedAt.setUTCMilliseconds(index % 1000);
    const headline = `${pick(next, SUBJECTS)} ${pick(next, VERBS)} ${pick(next, OBJECTS)} ${pick(next, PLACES)}`;
    const paragraphs: string[] = [];
    const paragraphCount = 3 + Math.floor(next() * 4);
    for (let p = 0; p < paragraphCount; p++) {
      paragraphs.push(`${sentence(next)} ${sentence(next)}`);
    }
    const roll = next();
    const bylineLength = size.authors === 0 ? 0 : roll < 0.03 ? 0 : roll < 0.88 ? 1 : roll < 0.98 ? 2 : 3;
    const authors: number[] = [];
    for (let a = 0; a < bylineLength; a++) {
      const author = Math.floor(size.authors * next() ** 2);
      if (!authors.includes(author)) authors.push(author);
    }
    yield {
      slug: `${slugify(headline)}-${index + 1}`,
      headline,
      body: paragraphs.join(PARAGRAPH_SEPARATOR),
      wordCount: countWords(paragraphs),
      issue,
      publishedAt: publishedAt.toISOString(),
      status: next() < 0.01 ? 'draft' : 'published',
      authors,
    };
  }
}
