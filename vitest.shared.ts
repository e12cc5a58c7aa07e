import { defineConfig } from 'vitest/config';

/** Shared settings for the Node workspaces: integration tests against real Postgres/Redis. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['../scripts/test-global-setup.ts'],
  },
});
