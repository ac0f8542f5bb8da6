// GraphQL Code Generator configuration for a TypeScript client of Atrium.
//
// The schema is Atrium's schema.graphqls, or a running server's /graphql
// when ATRIUM_SCHEMA names it (introspection is on by default); the
// documents are the operations the client sends. The client preset writes
// typed documents and a `graphql()` function into ./gql/ (or the directory
// ATRIUM_CODEGEN_OUT names).
//
//   npm ci && npx graphql-codegen --config codegen.ts
//   ATRIUM_SCHEMA=http://localhost:8080/graphql npx graphql-codegen --config codegen.ts
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: process.env.ATRIUM_SCHEMA ?? '../../schema.graphqls',
  documents: process.env.ATRIUM_DOCUMENTS ?? '../../client/operations.graphql',
  generates: {
    [process.env.ATRIUM_CODEGEN_OUT ?? './gql/']: {
      preset: 'client',
      config: {
        // Atrium's custom scalars: an RFC 3339 string and any JSON value.
        scalars: { Time: 'string', JSON: 'unknown' },
        enumsAsTypes: true,
      },
    },
  },
  ignoreNoDocuments: false,
};

export default config;
