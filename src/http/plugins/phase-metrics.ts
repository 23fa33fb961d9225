import type { Plugin } from 'graphql-yoga';
import type { Metrics } from '../../metrics.ts';

/**
 * Times each GraphQL phase of an operation into the `graphql_envelop_phase_*` histograms (the
 * names @graphql-yoga/plugin-prometheus uses). That plugin is not used itself: it labels every
 * observation with the operation's name, which the client chooses, so one client could grow the
 * registry by a series per name it makes up; here a phase costs two clock reads and one observation.
 */
export function usePhaseMetrics(metrics: Metrics): Plugin {
  return {
    onParse() {
      const started = performance.now();
      return () => metrics.observePhase('parse', performance.now() - started);
    },
    onValidate() {
      const started = performance.now();
      return () => metrics.observePhase('validate', performance.now() - started);
    },
    onContextBuilding() {
      const started = performance.now();
      return () => metrics.observePhase('context', performance.now() - started);
    },
    onExecute() {
      const started = performance.now();
      return { onExecuteDone: () => metrics.observePhase('execute', performance.now() - started) };
    },
  };
}
