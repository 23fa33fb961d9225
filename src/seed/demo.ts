import type { Store } from '../store/store.ts';
import { DEMO_CORPUS } from './demo-corpus.ts';
import { type SeedResult, seedCorpus, StoreNotEmptyError } from './seed.ts';

/** Loads the demo corpus when the store holds no content; null when it already did. */
export async function loadDemoContentIfEmpty(store: Store): Promise<SeedResult | null> {
  try {
    return await seedCorpus(store, DEMO_CORPUS);
  } catch (error) {
    if (error instanceof StoreNotEmptyError) return null;
    throw error;
  }
}
