// The benchmark's workloads: the documents every server is sent, and what the runner needs to
// know to send them. Shared by the runner and by the peers that recognise a document by its text.

/** No store access: what a server costs around the store, parse to JSON. */
export const TYPENAME = '{ __typename }';

/** An issue's running order with bylines: on the demo corpus the whole issue (the runner picks one of 15 pieces). */
export const ISSUE_PAGE = `query IssuePage($number: Int!) {
  issue(number: $number) {
    number
    articles(first: 50) { edges { node { headline publishedAt authors { name slug } } } }
  }
}`;

/** One author: their count, their latest piece's time, their 20 latest pieces with the issue each is in. */
export const AUTHOR_DASHBOARD = `query AuthorDashboard($slug: String!) {
  author(slug: $slug) {
    name
    articleCount
    lastPublishedAt
    articles(first: 20) { edges { node { headline publishedAt issue { number } } } }
  }
}`;

/** The 20 authors with the most public pieces (ties by id), each with their count and 3 latest pieces. */
export const AUTHORS_OVERVIEW = `query AuthorsOverview {
  authors(first: 20, orderBy: ARTICLE_COUNT_DESC) {
    edges { node { name slug articleCount articles(first: 3) { edges { node { headline publishedAt } } } } }
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

export type WorkloadName = 'typename' | 'issue-page' | 'author-dashboard' | 'authors-overview' | 'subscribe-new' | 'subscribe-repeated' | 'cached-query';

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

/** Every workload the runner knows; `DEFAULT_WORKLOADS` are the ones issue 14's targets name. */
export const WORKLOADS: readonly Workload[] = [
  {
    name: 'typename',
    title: '`{ __typename }` (no store access)',
    query: TYPENAME,
    variables: () => ({}),
    unique: false,
  },
  {
    name: 'issue-page',
    title: 'issue page: an issue’s pieces with bylines (15 on the demo corpus, the first 50 of ~333 on the large one)',
    query: ISSUE_PAGE,
    variables: (s) => ({ number: s.issueNumber }),
    unique: false,
  },
  {
    name: 'author-dashboard',
    title: 'author dashboard: one author, their 20 latest with issue',
    query: AUTHOR_DASHBOARD,
    variables: (s) => ({ slug: s.authorSlug }),
    unique: false,
  },
  {
    name: 'authors-overview',
    title: 'authors overview: top 20 by article count, 3 latest each',
    query: AUTHORS_OVERVIEW,
    variables: () => ({}),
    unique: false,
  },
  {
    name: 'subscribe-new',
    title: 'sign-up, a new address each time',
    query: SUBSCRIBE,
    variables: (s, tag, n) => ({ email: `reader-${tag}-${n}@example.org`, newsletter: s.newsletterSlug }),
    unique: true,
  },
  {
    name: 'subscribe-repeated',
    title: 'sign-up, one address repeated',
    query: SUBSCRIBE,
    variables: (s) => ({ email: 'repeat-reader@example.org', newsletter: s.newsletterSlug }),
    unique: false,
  },
];

export const DEFAULT_WORKLOADS: readonly WorkloadName[] = ['typename', 'issue-page', 'author-dashboard', 'authors-overview', 'subscribe-new'];

/** The response cache's workload: a repeated public query (the issue page) with the cache on. */
export const CACHED_QUERY: Workload = { ...WORKLOADS[1]!, name: 'cached-query', title: 'repeated public query (issue page), response cache on' };

export function requestBody(workload: Workload, subjects: Subjects, tag: string, n: number): string {
  return JSON.stringify({ query: workload.query, variables: workload.variables(subjects, tag, n) });
}
