import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Viewer } from '../auth/api-keys.ts';
import type { Limits } from '../config.ts';
import { codedError } from '../errors/coded-error.ts';
import type { GraphQLErrorCode } from '../errors/error-codes.ts';
import type { RateLimiter } from '../rate-limits/rate-limiter.ts';
import { DEFAULT_PAGE_SIZE } from '../schema/pagination.ts';
import { analyzeDocument, analyzeQuery, mostRepeatedField, type QueryAnalysis, type RepeatedField } from './query-analysis.ts';

/** The request header that asks for a query's measures without running it. */
export const DRY_RUN_HEADER = 'x-masthead-dry-run';

export interface CostReport {
  requested: number;
  maximum: number;
  depth: number;
}

function refusal(message: string, code: GraphQLErrorCode, cost: CostReport): GraphQLError {
  return codedError(code, message, { extensions: { cost } });
}

/** What a query breaks of the limits, if anything: the first limit it exceeds. */
function firstBreach(analysis: QueryAnalysis, limits: Limits, cost: CostReport): GraphQLError | null {
  if (analysis.depth > limits.maxDepth) {
    return refusal(`The query is ${analysis.depth} levels deep; the limit is ${limits.maxDepth}.`, 'QUERY_TOO_DEEP', cost);
  }
  if (analysis.aliases > limits.maxAliases) {
    return refusal(`The query uses ${analysis.aliases} aliases; the limit is ${limits.maxAliases}.`, 'TOO_MANY_ALIASES', cost);
  }
  if (analysis.directives > limits.maxDirectives) {
    return refusal(`The query uses ${analysis.directives} directives; the limit is ${limits.maxDirectives}.`, 'TOO_MANY_DIRECTIVES', cost);
  }
  if (analysis.representations > limits.maxRepresentations) {
    return refusal(
      `The query gives _entities ${analysis.representations} representations; the limit is ${limits.maxRepresentations} per call.`,
      'TOO_MANY_REPRESENTATIONS',
      cost,
    );
  }
  if (analysis.cost > cost.maximum) {
    return refusal(
      `The query could return ${analysis.cost} objects; the limit is ${cost.maximum}. Ask for smaller pages (first) or fewer nested lists.`,
      'QUERY_TOO_COSTLY',
      cost,
    );
  }
  return null;
}

/**
 * Whether an operation asks for the subgraph SDL, `_service`: a field of Query only, so the
 * selections at the root and the fragments spread there (each looked at once) are enough.
 */
function asksForSubgraphSdl(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const fragments = new Map<string, SelectionSetNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition.selectionSet);
  }
  const seen = new Set<string>();
  const asks = (selectionSet: SelectionSetNode): boolean =>
    selectionSet.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === '_service';
      if (selection.kind === Kind.INLINE_FRAGMENT) return asks(selection.selectionSet);
      if (seen.has(selection.name.value)) return false;
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      return fragment !== undefined && asks(fragment);
    });
  return operation.operation === 'query' && asks(operation.selectionSet);
}

/** Strips "Did you mean …?" from error messages: the schema is not to be guessed at field by field. */
function withoutSuggestions(error: GraphQLError): GraphQLError {
  const message = error.message.replace(/ ?Did you mean [^?]*\?/g, '');
  if (message === error.message) return error;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

/**
 * Refuses queries that ask too much before they run: tokens when parsing; depth, aliases,
 * directives and cost (objects a query may return, connections multiplying by their page
 * size) before executing, with HTTP 400 and a coded error. Every answer reports the query's
 * cost in `extensions.cost`; with the dry-run header the query is measured and not run.
 */
export function useQueryLimits(limits: Limits, maxPageSize: number, rateLimiter: RateLimiter): Plugin {
  const pages = { defaultSize: DEFAULT_PAGE_SIZE, maxSize: maxPageSize };
  // onValidate runs at every request, also when Yoga's cache has the validation's result: the
  // document's measures are kept with its node, which the parse cache keeps for a repeated document.
  const measured = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, { repeated: RepeatedField; analyses: QueryAnalysis[] }>>();
  const documentMeasures = (schema: GraphQLSchema, document: DocumentNode) => {
    let bySchema = measured.get(schema);
    if (bySchema === undefined) {
      bySchema = new WeakMap();
      measured.set(schema, bySchema);
    }
    let measures = bySchema.get(document);
    if (measures === undefined) {
      const repeated = mostRepeatedField(document);
      // Past the repeated-field limit the document is refused before it is measured further.
      measures = { repeated, analyses: repeated.times > limits.maxRepeatedField ? [] : analyzeDocument(schema, document, pages) };
      bySchema.set(document, measures);
    }
    return measures;
  };
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parse(source, { ...options, maxTokens: limits.maxTokens });
        } catch (error) {
          // The parser recurses once per level of nesting: thousands of levels exhaust the stack
          // before the token limit is reached.
          if (error instanceof RangeError) {
            throw codedError('QUERY_TOO_DEEP', 'The document nests too deeply to be read.');
          }
          throw error;
        }
      });
    },
    onValidate({ params, addValidationRule, setResult }) {
      if (!limits.introspection) addValidationRule(NoSchemaIntrospectionCustomRule);
      // Before validation, whose time grows with the square of repeated fields: a document that
      // is over the limits whatever its variables is refused here, after work linear in its size.
      const { repeated, analyses } = documentMeasures(params.schema, params.documentAST);
      if (repeated.times > limits.maxRepeatedField) {
        setResult([
          codedError(
            'FIELD_REPEATED_TOO_OFTEN',
            `The field "${repeated.key}" is asked ${repeated.times} times in one selection; the limit is ${limits.maxRepeatedField}.`,
          ),
        ]);
        return;
      }
      for (const analysis of analyses) {
        const breach = firstBreach(analysis, limits, { requested: analysis.cost, maximum: limits.maxCost, depth: analysis.depth });
        if (breach) {
          setResult([breach]);
          return;
        }
      }
    },
    async onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation) return;
      const analysis = analyzeQuery(args.schema, args.document, operation, (args.variableValues ?? {}) as Record<string, unknown>, pages);
      const cost: CostReport = { requested: analysis.cost, maximum: limits.maxCost, depth: analysis.depth };
      const breach = firstBreach(analysis, limits, cost);
      if (breach) {
        setResultAndStopExecution({ errors: [breach], extensions: { cost } });
        return;
      }
      const { request, viewer } = args.contextValue as { request?: Request; viewer?: Viewer };
      if (!limits.introspection && (viewer?.role ?? 'anonymous') === 'anonymous' && asksForSubgraphSdl(args.document, operation)) {
        // The SDL is the whole schema: with introspection off it is not served to the public.
        // A router may still read it with an editor's or admin's key, or compose from schema/subgraph.graphql.
        const error = codedError('INTROSPECTION_DISABLED', 'GraphQL introspection has been disabled, but the requested query contained the field "_service".');
        setResultAndStopExecution({ errors: [error], extensions: { cost } });
        return;
      }
      if (request?.headers.get(DRY_RUN_HEADER) === '1') {
        setResultAndStopExecution({ extensions: { cost, dryRun: true } });
        return;
      }
      if (viewer?.keyId != null) {
        // An API key spends its query costs from a budget per window.
        const rule = { ...limits.costBudgetPerKey, limit: viewer.costBudget ?? limits.costBudgetPerKey.limit };
        const decision = await rateLimiter.consume(`cost:key:${viewer.keyId}`, rule, analysis.cost);
        if (!decision.allowed) {
          const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
          setResultAndStopExecution({
            errors: [
              codedError('COST_BUDGET_EXCEEDED', `This API key has spent its cost budget of ${rule.limit} per window; try again in ${seconds} s.`, {
                extensions: { cost },
                headers: { 'retry-after': String(seconds) },
              }),
            ],
            extensions: { cost },
          });
          return;
        }
      }
      return {
        onExecuteDone({ result, setResult }) {
          if ('data' in result || 'errors' in result) setResult({ ...result, extensions: { ...result.extensions, cost } });
        },
      };
    },
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !('errors' in result) || !result.errors?.length) return;
      setResult({ ...result, errors: result.errors.map((error) => withoutSuggestions(error as GraphQLError)) });
    },
  };
}
