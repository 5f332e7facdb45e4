import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of functions/ (DESIGN.md "Architecture"): dependencies point inward.
 * oci ← mirror ← runs ← aws (adapters) ← handlers / local / cli (composition roots).
 * Each entry forbids a folder's files from importing the rooms named, and the SDKs that do not
 * belong there. Among the roots, cli (`ferry serve`) may start local, and local may route
 * requests through handlers/api; never the other way. `contract.ts` is shared by the runtime and
 * infra/ and imports nothing; infra/ shares nothing else with the runtime but the error names.
 */
const awsSdk = {
  group: ['@aws-sdk/*', '@smithy/*', 'aws-lambda', 'aws-cdk-lib', 'aws-cdk-lib/*'],
  message: 'no AWS SDK here: adapters live in functions/aws',
};
function forbid(folder, rooms, extra = []) {
  return {
    files: [`functions/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...rooms.map((room) => ({
              group: [`**/${room}/*`, `**/${room}/**`, `../${room}`, `../../${room}`],
              message: `functions/${folder} must not import functions/${room} (dependencies point inward)`,
            })),
            ...extra,
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/', 'cdk.out/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  forbid('oci', ['mirror', 'runs', 'aws', 'handlers', 'local', 'cli'], [awsSdk]),
  forbid('mirror', ['runs', 'aws', 'handlers', 'local', 'cli'], [awsSdk]),
  forbid('runs', ['aws', 'handlers', 'local', 'cli'], [awsSdk]),
  forbid('aws', ['handlers', 'local', 'cli']),
  forbid('handlers', ['local', 'cli']),
  forbid('local', ['cli']),
  forbid('cli', ['handlers']),
  {
    files: ['functions/contract.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['ImportDeclaration', 'ImportExpression', 'ExportAllDeclaration', 'ExportNamedDeclaration[source]'].map(
          (selector) => ({
            selector,
            message: 'functions/contract.ts imports nothing: infra/ reads it without loading the runtime',
          }),
        ),
      ],
    },
  },
  {
    files: ['infra/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Any path into functions/ except those two files (a regex: a glob cannot re-include a file under an excluded folder).
              regex: '(^|/)functions/(?!(contract|oci/errors)\\.js$)',
              message:
                'infra/ imports from functions/ only contract.ts (names, table shape, grammars) and oci/errors.ts (error names)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**/*.js', 'bench/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
