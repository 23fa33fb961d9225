import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents for the operations in tests/operations, from the printed SDL.
// Run `npm run codegen` after changing either; the test suite fails while the output is stale.
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['tests/operations/*.graphql'],
  generates: {
    'tests/generated/': {
      preset: 'client',
      // persisted-documents.json: the manifest of trusted documents (TRUSTED_DOCUMENTS), by SHA-256.
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: {
        scalars: { DateTime: 'string', Date: 'string' },
        useTypeImports: true,
        enumsAsTypes: true,
      },
    },
  },
  ignoreNoDocuments: false,
  // Imports with .js extensions, as NodeNext resolution wants.
  emitLegacyCommonJSImports: false,
};

export default config;
