import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** What a query asks of the server, measured before it runs. */
export interface QueryAnalysis {
  /** The deepest field nesting (a top-level field is depth 1). */
  depth: number;
  aliases: number;
  directives: number;
  /**
   * Objects the query may produce: every object-valued field costs 1 for each time it can
   * appear, so a connection multiplies what it holds by its page size (`first`, else the
   * default) and another list of objects by LIST_ESTIMATE. Scalars are free.
   */
  cost: number;
}

/** What a list that is not a connection (an article's authors, an issue's contributors) is taken to hold. */
export const LIST_ESTIMATE = 10;

function pageSize(value: ValueNode | undefined, variables: Readonly<Record<string, unknown>>, fallback: number, max: number): number {
  let size: unknown = fallback;
  if (value?.kind === Kind.INT) size = Number(value.value);
  else if (value?.kind === Kind.VARIABLE) size = variables[value.name.value] ?? fallback;
  return typeof size === 'number' && Number.isFinite(size) ? Math.min(Math.max(size, 0), max) : fallback;
}

/** Measures the operation that will run; the document has passed validation. */
export function analyzeQuery(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  pages: { defaultSize: number; maxSize: number },
): QueryAnalysis {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const result: QueryAnalysis = { depth: 0, aliases: 0, directives: operation.directives?.length ?? 0, cost: 0 };

  const walk = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, multiplier: number, depth: number, spread: Set<string>) => {
    const fields = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields() : {};
    const insideConnection = parent.name.endsWith('Connection');
    for (const selection of selectionSet.selections) {
      result.directives += selection.directives?.length ?? 0;
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) result.aliases += 1;
        result.depth = Math.max(result.depth, depth);
        const field = fields[selection.name.value];
        if (!field || !selection.selectionSet) continue;
        const type = getNamedType(field.type);
        if (!isCompositeType(type)) continue;
        result.cost += multiplier;
        let inner = multiplier;
        if (type.name.endsWith('Connection')) {
          const first = selection.arguments?.find((argument) => argument.name.value === 'first')?.value;
          inner *= pageSize(first, variables, pages.defaultSize, pages.maxSize);
        } else if (isListType(getNullableType(field.type)) && !insideConnection) {
          inner *= LIST_ESTIMATE;
        }
        walk(selection.selectionSet, type, inner, depth + 1, spread);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (condition && isCompositeType(condition)) walk(selection.selectionSet, condition, multiplier, depth, spread);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || spread.has(name)) continue;
        const condition = schema.getType(fragment.typeCondition.name.value);
        result.directives += fragment.directives?.length ?? 0;
        if (condition && isCompositeType(condition)) walk(fragment.selectionSet, condition, multiplier, depth, new Set([...spread, name]));
      }
    }
  };

  const root = schema.getRootType(operation.operation);
  if (root) walk(operation.selectionSet, root, 1, 1, new Set());
  return result;
}
