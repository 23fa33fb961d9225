import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  SchemaMetaFieldDef,
  type SelectionSetNode,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type ValueNode,
} from 'graphql';

/** What a query asks of the server, measured before it runs. */
export interface QueryAnalysis {
  /** The deepest field nesting (a top-level field is depth 1). */
  depth: number;
  /** Aliases, counted once for every place a fragment is spread. */
  aliases: number;
  /** Directives, counted as aliases are. */
  directives: number;
  /**
   * Objects the query may produce: every object-valued field costs 1 for each time it can
   * appear, so a connection multiplies what it holds by its page size (`first`, else the
   * default), `_entities` by the representations given, an introspection list by the size of
   * that list in this schema, and another list of objects by LIST_ESTIMATE. Scalars are free.
   */
  cost: number;
  /** The most representations that one `_entities` call is given. */
  representations: number;
  /** Selections the analysis looked at: each selection of the document once, however often its fragment is spread. */
  visited: number;
}

/** What a list that is not a connection (an article's authors, an issue's contributors) is taken to hold. */
export const LIST_ESTIMATE = 10;

/** Measures multiply and add up to astronomic numbers on hostile documents: they stop at a number that JSON can carry. */
const CEILING = Number.MAX_SAFE_INTEGER;
const sum = (a: number, b: number) => Math.min(a + b, CEILING);
const product = (a: number, b: number) => (a === 0 || b === 0 ? 0 : Math.min(a * b, CEILING));

/** A selection set's measures for one appearance of it, at depth 0. */
interface Measure {
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
  representations: number;
}

const NOTHING: Measure = { depth: 0, aliases: 0, directives: 0, cost: 0, representations: 0 };

function include(total: Measure, part: Measure, times = 1): void {
  total.depth = Math.max(total.depth, part.depth);
  total.aliases = sum(total.aliases, part.aliases);
  total.directives = sum(total.directives, part.directives);
  total.cost = sum(total.cost, product(part.cost, times));
  total.representations = Math.max(total.representations, part.representations);
}

const introspectionLists = new WeakMap<GraphQLSchema, ReadonlyMap<string, number>>();

/**
 * How many items each list of the introspection types holds in this schema: all its types and
 * directives; for the lists of a type, a field or a directive, the mean over all of them
 * (rounded up), so that `types { fields { args } }` counts every argument of the schema once.
 */
function introspectionListSizes(schema: GraphQLSchema): ReadonlyMap<string, number> {
  let sizes = introspectionLists.get(schema);
  if (sizes) return sizes;
  const types = Object.values(schema.getTypeMap());
  const mean = (lengths: number[]) => Math.max(1, Math.ceil(lengths.reduce((a, b) => a + b, 0) / Math.max(1, lengths.length)));
  const fieldsOf = types.flatMap((type) => (isObjectType(type) || isInterfaceType(type) ? Object.values(type.getFields()) : []));
  sizes = new Map([
    ['__Schema.types', types.length],
    ['__Schema.directives', schema.getDirectives().length],
    ['__Type.fields', mean(types.map((type) => (isObjectType(type) || isInterfaceType(type) ? Object.keys(type.getFields()).length : 0)))],
    ['__Type.inputFields', mean(types.map((type) => (isInputObjectType(type) ? Object.keys(type.getFields()).length : 0)))],
    ['__Type.interfaces', mean(types.map((type) => (isObjectType(type) || isInterfaceType(type) ? type.getInterfaces().length : 0)))],
    ['__Type.possibleTypes', mean(types.map((type) => (isCompositeType(type) && !isObjectType(type) ? schema.getPossibleTypes(type).length : 0)))],
    ['__Type.enumValues', mean(types.map((type) => (isEnumType(type) ? type.getValues().length : 0)))],
    ['__Field.args', mean(fieldsOf.map((field) => field.args.length))],
    ['__Directive.args', mean(schema.getDirectives().map((directive) => directive.args.length))],
  ]);
  introspectionLists.set(schema, sizes);
  return sizes;
}

/** The field a selection names, the introspection fields included. */
function fieldOf(schema: GraphQLSchema, parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parent === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
}

/** Variables as a request gives them; null before they are known, when a variable counts as little as it could (0). */
type Variables = Readonly<Record<string, unknown>> | null;

/** How a measure reads a variable: as a page size, or as `_entities` representations (their number). */
type VariableUse = 'page' | 'representations';

/** What of a variable's value a measure depends on: the page size itself, or how many representations. */
function variableKey(use: VariableUse, given: unknown): string {
  if (use === 'page') return typeof given === 'number' ? String(given) : '-';
  return given === undefined || given === null ? '0' : Array.isArray(given) ? `${given.length}` : '1';
}

function pageSize(value: ValueNode | undefined, variables: Variables, fallback: number, max: number, read: (name: string, use: VariableUse) => void): number {
  let size: unknown = fallback;
  if (value?.kind === Kind.INT) size = Number(value.value);
  else if (value?.kind === Kind.VARIABLE) {
    read(value.name.value, 'page');
    size = variables === null ? 0 : (variables[value.name.value] ?? fallback);
  }
  return typeof size === 'number' && Number.isFinite(size) ? Math.min(Math.max(size, 0), max) : fallback;
}

/** How many representations an `_entities` call is given: a list's length; a single value is a list of one. */
function representationCount(value: ValueNode | undefined, variables: Variables, read: (name: string, use: VariableUse) => void): number {
  if (value === undefined || value.kind === Kind.NULL) return 0;
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind !== Kind.VARIABLE) return 1;
  read(value.name.value, 'representations');
  const given = variables?.[value.name.value];
  if (given === undefined || given === null) return 0;
  return Array.isArray(given) ? given.length : 1;
}

/**
 * Measures the parts of one document. Each fragment is measured once and its measures reused at
 * every spread (cost scaled by where it is spread), so the work is linear in the document however
 * its fragments nest. It does not need the document to be valid: fields that the schema does not
 * have cost nothing, and a fragment that spreads itself adds nothing the second time.
 */
function documentMeasurer(schema: GraphQLSchema, document: DocumentNode, variables: Variables, pages: { defaultSize: number; maxSize: number }) {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION && !fragments.has(definition.name.value)) fragments.set(definition.name.value, definition);
  }
  const introspection = introspectionListSizes(schema);
  const measured = new Map<string, Measure>();
  let visited = 0;
  /** The variables the measures read, and how: all that a measure of this document depends on besides the document. */
  const reads = new Map<string, VariableUse>();
  const read = (name: string, use: VariableUse) => void reads.set(name, use);

  const measureFragment = (name: string): Measure => {
    const known = measured.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    // Marked before it is measured: a cycle (which validation refuses) then ends here.
    measured.set(name, NOTHING);
    if (!fragment) return NOTHING;
    const condition = schema.getType(fragment.typeCondition.name.value);
    const measure = measureSelections(fragment.selectionSet, condition && isCompositeType(condition) ? condition : null);
    measure.directives = sum(measure.directives, fragment.directives?.length ?? 0);
    measured.set(name, measure);
    return measure;
  };

  const measureSelections = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType | null): Measure => {
    const total: Measure = { ...NOTHING };
    for (const selection of selectionSet.selections) {
      visited += 1;
      total.directives = sum(total.directives, selection.directives?.length ?? 0);
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        include(total, measureFragment(selection.name.value));
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        include(total, measureSelections(selection.selectionSet, condition && isCompositeType(condition) ? condition : null));
        continue;
      }
      if (selection.alias) total.aliases = sum(total.aliases, 1);
      const field = parent ? fieldOf(schema, parent, selection.name.value) : undefined;
      const type = field ? getNamedType(field.type) : undefined;
      const child = type && isCompositeType(type) ? type : null;
      const inner = selection.selectionSet ? measureSelections(selection.selectionSet, child) : NOTHING;
      let times = 1;
      if (field && child && parent) {
        const argument = (name: string) => selection.arguments?.find((given) => given.name.value === name)?.value;
        if (child.name.endsWith('Connection')) {
          times = pageSize(argument('first'), variables, pages.defaultSize, pages.maxSize, read);
        } else if (field.name === '_entities' && parent === schema.getQueryType()) {
          times = representationCount(argument('representations'), variables, read);
          total.representations = Math.max(total.representations, times);
        } else if (isListType(getNullableType(field.type)) && !parent.name.endsWith('Connection')) {
          times = isIntrospectionType(parent) ? (introspection.get(`${parent.name}.${field.name}`) ?? LIST_ESTIMATE) : LIST_ESTIMATE;
        }
        total.cost = sum(total.cost, 1);
      }
      include(total, { ...inner, depth: inner.depth + 1 }, times);
    }
    return total;
  };

  const analysis = (measure: Measure, directives: number): QueryAnalysis => ({
    depth: measure.depth,
    aliases: measure.aliases,
    directives: sum(measure.directives, directives),
    cost: measure.cost,
    representations: measure.representations,
    visited,
  });

  return {
    operation: (operation: OperationDefinitionNode) =>
      analysis(measureSelections(operation.selectionSet, schema.getRootType(operation.operation) ?? null), operation.directives?.length ?? 0),
    fragment: (name: string) => analysis(measureFragment(name), 0),
    fragmentNames: () => [...fragments.keys()],
    reads: () => [...reads],
  };
}

/** Past this many sets of variable values an operation's measures are forgotten and taken afresh. */
const MAX_MEASURES_PER_OPERATION = 100;

interface OperationMeasures {
  schema: GraphQLSchema;
  pages: { defaultSize: number; maxSize: number };
  /** The variables the measure reads (the same whatever their values). */
  reads: ReadonlyArray<[string, VariableUse]>;
  /** Measures by what they depend on of the variables. */
  byVariables: Map<string, QueryAnalysis>;
}

// Kept on the operation's node, which the parse cache keeps for a repeated document: its
// measures are taken once, not at every request (once per page size where a variable sets one).
const measuresOf = new WeakMap<OperationDefinitionNode, OperationMeasures>();

/** Measures the operation that will run, with the variables it is given. */
export function analyzeQuery(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  pages: { defaultSize: number; maxSize: number },
): QueryAnalysis {
  let kept = measuresOf.get(operation);
  if (kept !== undefined && kept.schema === schema && kept.pages === pages) {
    const known = kept.byVariables.get(kept.reads.map(([name, use]) => variableKey(use, variables[name])).join(','));
    if (known !== undefined) return known;
  }
  const measurer = documentMeasurer(schema, document, variables, pages);
  const analysis = measurer.operation(operation);
  const reads = measurer.reads();
  if (kept === undefined || kept.schema !== schema || kept.pages !== pages || kept.byVariables.size >= MAX_MEASURES_PER_OPERATION) {
    kept = { schema, pages, reads, byVariables: new Map() };
    measuresOf.set(operation, kept);
  }
  kept.byVariables.set(reads.map(([name, use]) => variableKey(use, variables[name])).join(','), analysis);
  return analysis;
}

/**
 * The least that any part of a document asks, whatever its variables: each operation, and each
 * fragment as if it were spread once at depth 0, with every variable counting as 0. Measured
 * before validation, which takes time that grows faster than the document (graphql-js compares
 * fields in pairs), and cached with its result: so it depends on the document alone.
 */
export function analyzeDocument(schema: GraphQLSchema, document: DocumentNode, pages: { defaultSize: number; maxSize: number }): QueryAnalysis[] {
  const measurer = documentMeasurer(schema, document, null, pages);
  const operations = document.definitions.flatMap((definition) => (definition.kind === Kind.OPERATION_DEFINITION ? [measurer.operation(definition)] : []));
  return [...operations, ...measurer.fragmentNames().map((name) => measurer.fragment(name))];
}

/** The field that one selection set asks for most often, and how often. */
export interface RepeatedField {
  key: string;
  times: number;
}

/**
 * The response key asked most often in one selection set, counting the fields of the fragments
 * spread there (each distinct spread once, as validation compares them). graphql-js validation
 * compares the fields of one selection set that share a key in pairs: time that grows with the
 * square of this number. Each fragment's keys are counted once and reused where it is spread.
 */
export function mostRepeatedField(document: DocumentNode): RepeatedField {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION && !fragments.has(definition.name.value)) fragments.set(definition.name.value, definition);
  }
  const keysOf = new Map<string, Map<string, number>>();
  const most: RepeatedField = { key: '', times: 0 };
  const count = (into: Map<string, number>, key: string, times: number) => {
    const total = sum(into.get(key) ?? 0, times);
    into.set(key, total);
    if (total > most.times) Object.assign(most, { key, times: total });
  };
  const fragmentKeys = (name: string): Map<string, number> => {
    const known = keysOf.get(name);
    if (known) return known;
    const keys = new Map<string, number>();
    // Set before it is counted: a cycle (which validation refuses) then ends here.
    keysOf.set(name, keys);
    const fragment = fragments.get(name);
    if (fragment) collect(fragment.selectionSet, keys, new Set([name]));
    return keys;
  };
  const collect = (selectionSet: SelectionSetNode, into: Map<string, number>, spread: Set<string>): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        count(into, (selection.alias ?? selection.name).value, 1);
        if (selection.selectionSet) collect(selection.selectionSet, new Map(), new Set());
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet, into, spread);
      } else if (!spread.has(selection.name.value)) {
        spread.add(selection.name.value);
        for (const [key, times] of fragmentKeys(selection.name.value)) count(into, key, times);
      }
    }
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) collect(definition.selectionSet, new Map(), new Set());
    else if (definition.kind === Kind.FRAGMENT_DEFINITION) fragmentKeys(definition.name.value);
  }
  return most;
}
