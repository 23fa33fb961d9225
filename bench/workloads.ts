// The benchmark's workloads: the documents every server is sent, and what the runner needs to
// know to send them. Shared by the runner and by the peers that recognise a document by its text.

export const ISSUE_PAGE = `query IssuePage($number: Int!) {
  issue(number: $number) {
    number
    articles(first: 50) { edges { node { headline publishedAt authors { name slug } } } }
  }
}`;

export const AUTHOR_DASHBOARD = `query AuthorDashboard($slug: String!) {
  author(slug: $slug) {
    articleCount
    lastPublishedAt
    articles(first: 20) { edges { node { headline issue { number } } } }
  }
  authors(first: 20, orderBy: ARTICLE_COUNT_DESC) {
    edges { node { name articleCount articles(first: 3) { edges { node { headline } } } } }
  }
}`;

export const SUBSCRIBE = `mutation Subscribe($email: String!, $newsletter: String!) {
  subscribe(input: { email: $email, newsletter: $newsletter }) {
    subscription { status newsletter { name } }
    userErrors { field code message }
  }
}`;

/** What the runner picks from the seeded store for the workloads' variables. */
export interface Subjects {
  issueNumber: number;
  authorSlug: string;
  newsletterSlug: string;
}

export type WorkloadName = 'issue-page' | 'author-dashboard' | 'subscribe-new' | 'subscribe-repeated' | 'cached-query';

export interface Workload {
  name: WorkloadName;
  /** A line for the report. */
  title: string;
  query: string;
  /** Variables for request number `n`; `tag` keeps addresses unique across servers and rounds. */
  variables(subjects: Subjects, tag: string, n: number): Record<string, unknown>;
  /** Whether each request's body differs (and so must be made per request). */
  unique: boolean;
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'issue-page',
    title: '(a) issue page: 50 articles with bylines',
    query: ISSUE_PAGE,
    variables: (s) => ({ number: s.issueNumber }),
    unique: false,
  },
  {
    name: 'author-dashboard',
    title: "(b) author dashboard: one author's 20 latest + top 20 authors with 3 each",
    query: AUTHOR_DASHBOARD,
    variables: (s) => ({ slug: s.authorSlug }),
    unique: false,
  },
  {
    name: 'subscribe-new',
    title: '(c) subscribe, a new address each time',
    query: SUBSCRIBE,
    variables: (s, tag, n) => ({ email: `reader-${tag}-${n}@example.org`, newsletter: s.newsletterSlug }),
    unique: true,
  },
  {
    name: 'subscribe-repeated',
    title: '(c) subscribe, one address repeated',
    query: SUBSCRIBE,
    variables: (s) => ({ email: 'repeat-reader@example.org', newsletter: s.newsletterSlug }),
    unique: false,
  },
];

/** The response cache's workload: a repeated public query (the issue page) with the cache on. */
export const CACHED_QUERY: Workload = { ...WORKLOADS[0]!, name: 'cached-query', title: 'repeated public query, response cache on' };

export function requestBody(workload: Workload, subjects: Subjects, tag: string, n: number): string {
  return JSON.stringify({ query: workload.query, variables: workload.variables(subjects, tag, n) });
}
