import { createRequire } from 'node:module';
import { type DocumentNode, type ExecutionArgs, type ExecutionResult, getOperationAST } from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

// graphql-jit (with its code generators, several MB of RSS) is loaded when the first operation is
// compiled, not at start: a server that is never sent the same query twice never loads it. Its
// CommonJS build, so that it loads synchronously, on the same graphql module as the ESM build.
const require = createRequire(import.meta.url);
let jit: typeof import('graphql-jit') | undefined;

/** What is known of one operation of a parsed document. */
interface Operation {
  /** Executions so far, until it is compiled (or found not to compile). */
  runs: number;
  /** The compiled form; null while not (yet) compiled, or when it will not be. */
  compiled: CompiledQuery | null;
}

/** An operation is compiled when it runs for this time: a document sent once is not worth compiling. */
const COMPILE_ON_RUN = 2;

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as { then?: unknown })?.then === 'function';

/**
 * Compiled execution (graphql-jit) for queries that clients send again and again. An operation
 * is compiled the second time it runs (a stream of one-off documents costs no compilations) and
 * kept beside its parsed document, which Yoga's parse cache keeps (and lets go) by its text.
 *
 * graphql-jit reports errors in its own way (their count, paths and messages differ from
 * graphql-js in places), so a compiled answer is kept only when it has no errors: otherwise the
 * standard executor runs the query again and its answer is the one sent. That is safe because
 * queries change nothing. Mutations always run through the standard executor, once.
 */
export function useCompiledExecution(): Plugin {
  const operations = new WeakMap<DocumentNode, Map<string | null, Operation>>();

  const compiledFor = (args: ExecutionArgs): CompiledQuery | null => {
    let byName = operations.get(args.document);
    if (!byName) {
      byName = new Map();
      operations.set(args.document, byName);
    }
    const name = args.operationName ?? null;
    let operation = byName.get(name);
    if (!operation) {
      operation = { runs: 0, compiled: null };
      byName.set(name, operation);
    }
    if (operation.compiled || operation.runs >= COMPILE_ON_RUN) return operation.compiled;
    operation.runs += 1;
    if (operation.runs < COMPILE_ON_RUN) return null;
    if (getOperationAST(args.document, name)?.operation !== 'query') return null;
    jit ??= require('graphql-jit') as typeof import('graphql-jit');
    const result = jit.compileQuery(args.schema, args.document, name ?? undefined);
    operation.compiled = jit.isCompiledQuery(result) ? result : null;
    return operation.compiled;
  };

  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(((args: ExecutionArgs) => {
        const compiled = compiledFor(args);
        if (!compiled) return executeFn(args);
        const settle = (result: ExecutionResult) => (result.errors?.length || !('data' in result) ? executeFn(args) : result);
        const result = compiled.query(args.rootValue, args.contextValue, args.variableValues);
        return isPromise(result) ? result.then(settle) : settle(result);
      }) as typeof executeFn);
    },
  };
}
