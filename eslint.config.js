import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/*
 * Workspace boundaries (docs/architecture.md): a workspace uses another only through that package's
 * `exports` map (`@cic/core/jobs/job-catalog`), never by a relative path into its folder; `core` and
 * `simulator` import no application; `core` imports no transport. Tests may share another workspace's
 * test fixtures (`../../api/test/…`), never its sources.
 */
const WORKSPACE_DIRS = 'api|core|jobs|web|simulator|prisma|deploy|loadtests|scripts';
const intoAnotherWorkspace = {
  regex: `^(\\.\\./)+(${WORKSPACE_DIRS})/(src|bin)(/|$)`,
  message: "Import another workspace through its package's exports (e.g. '@cic/core/…'), not a path into its sources.",
};
const applications = {
  group: ['@cic/api', '@cic/api/*', '@cic/jobs', '@cic/jobs/*', '@cic/web', '@cic/web/*', '@cic/loadtests', '@cic/loadtests/*', '@cic/deploy', '@cic/deploy/*'],
  message: 'core and simulator are libraries: they never import an application.',
};
const transports = {
  group: ['graphql', 'graphql-yoga', 'graphql-ws', 'graphql-sse', '@pothos/*', 'undici', 'ws', 'node:http', 'node:https', 'http', 'https', '@sveltejs/*', '$app/*', '@cic/vllm-sim'],
  message: 'core is the transport-free domain: HTTP, GraphQL and WebSocket code belongs in api/ (or web/).',
};

export default tseslint.config(
  { ignores: ['**/node_modules/', '**/generated/', '**/build/', '**/.svelte-kit/', '**/dist/', 'web/**/*.svelte', 'loadtests/reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    rules: { 'no-restricted-imports': ['error', { patterns: [intoAnotherWorkspace] }] },
  },
  {
    files: ['simulator/**/*.ts', 'simulator/**/*.mjs'],
    rules: { 'no-restricted-imports': ['error', { patterns: [intoAnotherWorkspace, applications, { group: ['@cic/*'], message: 'The simulator stands in for vLLM: it knows nothing of CIC.' }] }] },
  },
  {
    files: ['core/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [intoAnotherWorkspace, applications, transports] }] },
  },
  {
    files: ['loadtests/k6/**/*.js'],
    languageOptions: { globals: { __ENV: 'readonly', __VU: 'readonly', __ITER: 'readonly' } },
  },
);
