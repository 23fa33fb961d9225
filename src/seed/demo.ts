import type { Store } from '../store/store.ts';
import { type SeedResult, seedCorpus, StoreNotEmptyError } from './seed.ts';

/** The corpus that `npm start` shows on an empty store: enough for GraphiQL to look real. */
export const DEMO_CORPUS = { issues: 100, authors: 60, articles: 1500, seed: 2060 };

/** Loads the demo corpus when the store holds no content; null when it already did. */
export async function loadDemoContentIfEmpty(store: Store): Promise<SeedResult | null> {
  try {
    return await seedCorpus(store, DEMO_CORPUS);
  } catch (error) {
    if (error instanceof StoreNotEmptyError) return null;
    throw error;
  }
}
