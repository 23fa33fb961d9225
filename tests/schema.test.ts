import { readFileSync } from 'node:fs';
import path from 'node:path';
import { printSubgraphSchema } from '@apollo/subgraph';
import { generate } from '@graphql-codegen/cli';
import {
  buildSchema,
  findBreakingChanges,
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedScalarType,
  printSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { subgraphSchema } from '../src/schema/index.ts';
import { schema } from '../src/schema/public-schema.ts';
import codegenConfig from '../codegen.ts';
import { ROOT } from './support/cli.ts';

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('the schema', () => {
  it('is printed in schema/schema.graphql (run npm run schema:print after changing it)', () => {
    expect(read('schema/schema.graphql')).toBe(`${printSchema(schema)}\n`);
  });

  it('is printed for Federation, with its entity keys, in schema/subgraph.graphql (npm run schema:print)', () => {
    expect(read('schema/subgraph.graphql')).toBe(`${printSubgraphSchema(subgraphSchema)}\n`);
  });

  it('is served whole on /graphql, with the Federation fields beside it', () => {
    expect(findBreakingChanges(schema, subgraphSchema)).toEqual([]);
    expect(Object.keys(subgraphSchema.getQueryType()?.getFields() ?? {})).toEqual(expect.arrayContaining(['_entities', '_service']));
    expect(Object.keys(schema.getQueryType()?.getFields() ?? {})).not.toContain('_entities');
    // Described too: clients see them in introspection of what /graphql serves.
    const federation = subgraphSchema.getQueryType()?.getFields();
    expect(federation?._entities?.description).toMatch(/^The entities that a federation router asks for by their keys \(Article, Author, Issue/);
    expect(federation?._service?.description).toMatch(/^This subgraph's SDL, for a federation router/);
  });

  it('keeps every promise of the public contract', () => {
    const contract = buildSchema(read('tests/fixtures/contract.graphql'));
    expect(findBreakingChanges(contract, schema)).toEqual([]);
  });

  it('names the sign-up type NewsletterSubscription, keeping Subscription for the root of live content', () => {
    expect(schema.getType('NewsletterSubscription')).toBeDefined();
    const root = schema.getSubscriptionType();
    expect(root?.name).toBe('Subscription');
    expect(Object.keys(root?.getFields() ?? {}).sort()).toEqual(['articleChanged', 'articlePublished', 'issuePublished']);
    expect(String(root?.getFields().articlePublished?.type)).toBe('Article!');
    expect(
      root
        ?.getFields()
        .articlePublished?.args.map((arg) => `${arg.name}: ${arg.type}`)
        .sort(),
    ).toEqual(['authorSlug: String', 'issueNumber: Int']);
  });

  it('describes every type, field, argument and enum value', () => {
    const missing: string[] = [];
    const userTypes = Object.values(schema.getTypeMap()).filter((type: GraphQLNamedType) => !type.name.startsWith('__') && !isSpecifiedScalarType(type));
    for (const type of userTypes) {
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('generated documents', () => {
  it('are up to date with the SDL and the operations (run npm run codegen after changing either)', async () => {
    const outputs = await generate({ ...codegenConfig, cwd: ROOT, silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      expect(read(path.relative(ROOT, path.resolve(ROOT, output.filename))), output.filename).toBe(output.content);
    }
  });
});
