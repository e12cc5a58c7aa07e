import { defineConfig } from 'vitest/config';

/** The simulator needs no database or Redis: its tests start it on port 0 and talk HTTP to it. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    pool: 'forks',
  },
});
