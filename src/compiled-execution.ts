import type { DocumentNode, ExecutionArgs, ExecutionResult } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

type Compiled = CompiledQuery | null;

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as { then?: unknown })?.then === 'function';

/**
 * Compiled execution (graphql-jit): each operation is compiled to plain JavaScript the first
 * time it runs and the compiled form kept beside its parsed document, which Yoga's parse cache
 * keeps (and lets go) by its text. Operations graphql-jit cannot compile, and requests whose
 * variables it refuses, run through the standard executor instead, so a client's mistake gets
 * the standard error, message and HTTP status.
 */
export function useCompiledExecution(): Plugin {
  const compiled = new WeakMap<DocumentNode, Map<string | null, Compiled>>();

  const compiledFor = (args: ExecutionArgs): Compiled => {
    let byOperation = compiled.get(args.document);
    if (!byOperation) {
      byOperation = new Map();
      compiled.set(args.document, byOperation);
    }
    const operationName = args.operationName ?? null;
    let query = byOperation.get(operationName);
    if (query === undefined) {
      const result = compileQuery(args.schema, args.document, operationName ?? undefined);
      query = isCompiledQuery(result) ? result : null;
      byOperation.set(operationName, query);
    }
    return query;
  };

  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(((args: ExecutionArgs) => {
        const query = compiledFor(args);
        if (!query) return executeFn(args);
        // No `data` at all means the request failed before execution began: its variables.
        const settle = (result: ExecutionResult) => ('data' in result ? result : executeFn(args));
        const result = query.query(args.rootValue, args.contextValue, args.variableValues);
        return isPromise(result) ? result.then(settle) : settle(result);
      }) as typeof executeFn);
    },
  };
}
