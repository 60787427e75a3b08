// One lint config for the whole repo. Besides the usual checks, it encodes the boundaries of
// the house style (shared/STYLE.md) as rules, so they fail a build instead of relying on memory.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'querystring',
  'readline',
  'stream',
  'string_decoder',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'packages/db/migrations/**',
      'test-results/**',
      '**/bench/results*.json',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Only the composition root and env.ts read the environment (habit 1).
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration in apps/api/src/env.ts and pass it down.',
        },
      ],
    },
  },
  {
    files: [
      'apps/api/src/env.ts',
      'apps/api/src/main.ts',
      'apps/api/src/demo.ts',
      '**/*.config.ts',
      '**/*.config.js',
      'vitest.chromium.ts',
      '**/test/**',
      '**/e2e/**',
      '**/bench/**',
      'apps/api/reliability/**',
      'scripts/**',
      '**/examples/**',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Tests poke at raw wire frames, where `any` is the honest type.
    files: ['**/*.test.ts', '**/test/**/*.ts', '**/e2e/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The crypto core and the client run in browsers and Node alike: WebCrypto, never Node's
    // modules or Buffer (habit 2).
    files: ['packages/crypto/**/*.ts', 'packages/client/src/**/*.ts'],
    ignores: ['**/*.config.ts', 'packages/crypto/bench/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['node:*'], message: 'Isomorphic code: use web platform APIs.' }],
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Isomorphic code: use web platform APIs.',
          })),
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: 'Use Uint8Array.' },
        { name: 'process', message: 'Isomorphic code has no process.' },
        { name: 'require', message: 'ESM only.' },
      ],
    },
  },
  {
    // The web app knows the API only by its types, and never the database (habit 2).
    files: ['apps/web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@securechat/api',
              allowTypeImports: true,
              message: 'Import the API as `import type` only.',
            },
            { name: '@securechat/db', message: 'The web app never touches the database.' },
            { name: 'drizzle-orm', message: 'The web app never touches the database.' },
            {
              name: '@trpc/server',
              allowTypeImports: true,
              message: 'Server code stays on the server.',
            },
          ],
          patterns: [{ group: ['node:*'], message: 'Browser code: no Node modules.' }],
        },
      ],
    },
  },
  {
    // Only apps/api throws TRPCError (habit 4); packages stay transport-free.
    files: ['packages/**/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@trpc/server',
              importNames: ['TRPCError', 'initTRPC'],
              message: 'Only apps/api deals in tRPC errors and routers.',
            },
            {
              name: '@securechat/api',
              allowTypeImports: true,
              message: 'Import the API as `import type` only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/db/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@trpc/*'], message: 'The db package knows nothing of the API.' }] },
      ],
    },
  },
);
