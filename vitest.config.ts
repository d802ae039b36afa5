import { configDefaults, defineConfig } from 'vitest/config';

// Integration tests run twice: on embedded PGlite and on the real PostgreSQL.
const integration = ['test/integration/**/*.test.ts'];
const startup = 'test/integration/startup.test.ts';
// Each project with a database migrates one template that its test files copy.
const globalSetup = ['test/support/database-template.ts'];

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'pglite',
          include: integration,
          exclude: [...configDefaults.exclude, startup],
          env: { TEST_DB: 'pglite' },
          globalSetup,
        },
      },
      { extends: true, test: { name: 'postgres', include: integration, env: { TEST_DB: 'postgres' }, globalSetup } },
      // Whole Countersign processes, seven at a time, each with a 60 s timeout: on a two-core machine they
      // need it to themselves, so they run after everything else.
      {
        extends: true,
        test: { name: 'startup', include: [startup], env: { TEST_DB: 'pglite' }, globalSetup, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
      // Real Chromium against the real app; one database is enough for what a browser adds.
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], env: { TEST_DB: 'postgres' }, globalSetup } },
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A worker process runs file after file of its project, importing the app once rather than per
    // file: each file has its own database, queue prefix and servers, and closes them in afterAll.
    isolate: false,
    // Two files at a time on two cores: most wait on a database, a process or a browser part of the time.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
