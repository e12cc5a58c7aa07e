import { defineConfig } from 'vitest/config';

/**
 * The dashboard's own vitest config (a root `projects` config would drop SvelteKit). Browser tests
 * start the whole platform: real Postgres/Redis from the shared global setup, the built dashboard,
 * the API and workers as child processes. Build first (`npm run test:e2e` does).
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['../scripts/test-global-setup.ts'],
  },
});
