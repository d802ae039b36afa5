import { defineConfig } from 'vitest/config';

// Integration tests run twice: on embedded PGlite and on the real PostgreSQL.
const integration = ['test/integration/**/*.test.ts'];

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'pglite', include: integration, env: { TEST_DB: 'pglite' }, globalSetup: ['test/support/pglite-template.ts'] },
      },
      { extends: true, test: { name: 'postgres', include: integration, env: { TEST_DB: 'postgres' } } },
      // Real Chromium against the real app; one database is enough for what a browser adds.
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], env: { TEST_DB: 'postgres' } } },
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
