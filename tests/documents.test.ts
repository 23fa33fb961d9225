import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DocumentError, parseDocument, splitByline } from '../src/importer/parse-document.ts';
import { parseUkTimestamp } from '../src/importer/uk-time.ts';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures/documents', name), 'utf8');

describe('reading an article document', () => {
  it('finds the headline, byline, issue, body, publication time and promoted newsletter', () => {
    const document = parseDocument(fixture('good/summer-single-author.txt'));
    expect(document).toMatchObject({
      publication: 'The Evening Ledger',
      headline: 'Dock strike closes the port for a third day',
      authors: ['Marta Quinlan'],
      issueNumber: 3100,
      publishedAt: '2025-07-16T18:46:00.000Z',
      standfirst: null,
      newsletter: { name: 'The Early Ledger', description: 'A daily morning email newsletter.' },
    });
    expect(document.body).toHaveLength(4);
    expect(document.body[0]).toMatch(/^Dockers at the city's container port/);
    expect(document.body.at(-1)).toBe('A mass meeting is called for Friday.');
    expect(document.body.join(' ')).not.toMatch(/subscribe|Article information|Share this article|Mobile users/);
  });

  it('reads several authors in byline order, and a winter time as GMT', () => {
    const document = parseDocument(fixture('good/winter-three-authors.txt'));
    expect(document.authors).toEqual(['Ana Belo', 'Tom Reyes', 'Priya Nair']);
    expect(document.publishedAt).toBe('2026-01-13T09:05:00.000Z');
    expect(document.newsletter).toBeNull();
  });

  it('accepts a piece without a byline and a piece without an issue', () => {
    expect(parseDocument(fixture('good/no-byline.txt')).authors).toEqual([]);
    expect(parseDocument(fixture('good/web-only.txt')).issueNumber).toBeNull();
  });

  it('reads CR LF line ends and a byte-order mark', () => {
    const document = parseDocument(fixture('good/crlf-bom.txt'));
    expect(document.publication).toBe('The Evening Ledger');
    expect(document.headline).toBe('Carriage returns and a byte-order mark');
    expect(document.body).toEqual(['Written on a machine that ends lines with CR LF.']);
  });

  it.each([
    ['bad/empty.txt', 'the document is empty'],
    ['bad/blank-lines-only.txt', 'the document is empty'],
    ['bad/garbled-timestamp.txt', 'not a real date and time'],
    ['bad/no-timestamp.txt', 'no publication time'],
    ['bad/issue-mismatch.txt', '3100 under the headline but 3999 in the footer'],
    ['bad/no-body.txt', 'no body paragraphs'],
  ])('refuses %s, saying why', (name, reason) => {
    expect(() => parseDocument(fixture(name))).toThrow(DocumentError);
    expect(() => parseDocument(fixture(name))).toThrow(reason);
  });

  it('refuses text with NUL bytes and an absurd issue number', () => {
    expect(() => parseDocument('Pub\n\nHead\0line\n\nBody\n\nTue 17 Jul 2007, 19:46 BST')).toThrow('NUL');
    expect(() => parseDocument('Pub\n\nHeadline\n\nIssue No. 99999999999\n\nBody\n\nTue 17 Jul 2007, 19:46 BST')).toThrow('out of range');
  });
});

describe('splitting a byline', () => {
  it.each([
    ['Yuri Prasad', ['Yuri Prasad']],
    ['A Person and B Person', ['A Person', 'B Person']],
    ['A, B and C', ['A', 'B', 'C']],
    ['A, B, and C', ['A', 'B', 'C']],
    ['A & B', ['A', 'B']],
    ['Alexandra Anderson and Sandra Mandela', ['Alexandra Anderson', 'Sandra Mandela']],
    ['A and A', ['A']],
  ])('%s', (byline, names) => {
    expect(splitByline(byline)).toEqual(names);
  });
});

describe('UK local publication times', () => {
  it.each([
    ['Tue 17 Jul 2007, 19:46 BST', '2007-07-17T18:46:00.000Z'],
    ['Mon 15 Jan 2007, 19:46 GMT', '2007-01-15T19:46:00.000Z'],
    ['17 July 2007 19:46', '2007-07-17T18:46:00.000Z'],
    ['15 Jan 2007, 19:46', '2007-01-15T19:46:00.000Z'],
    // The night the clocks went back in 2007: 01:30 came twice; without a label, the first (BST) one.
    ['Sun 28 Oct 2007, 00:30', '2007-10-27T23:30:00.000Z'],
    ['Sun 25 Mar 2007, 03:00', '2007-03-25T02:00:00.000Z'],
  ])('%s is %s', (line, iso) => {
    expect(parseUkTimestamp(line)).toEqual({ iso });
  });

  it.each(['Tue 30 Feb 2007, 19:46 BST', 'Tue 17 Jul 2007, 25:46 BST', 'Tue 17 Jul 2007, 19:61 GMT'])('refuses %s', (line) => {
    expect(parseUkTimestamp(line)).toHaveProperty('problem');
  });
});
