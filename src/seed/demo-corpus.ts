/** The corpus that `npm start` shows on an empty store: enough for GraphiQL to look real. */
export const DEMO_CORPUS = { issues: 100, authors: 60, articles: 1500, seed: 2060 };
