/**
 * The house rules, checked in CI (`npm run deps`): no import cycles, and each floor imports
 * only the floors below it. Type-only imports count too.
 *
 *   src/http, workers/, src/cli.ts   doors: parse, call a service, render
 *   src/services                     use cases and page read-models
 *   src/db, src/mail, src/queue      SQL, message composition, queues
 *   src/domain                       pure rules
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle means two modules cannot be understood, tested or moved apart.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'doors-skip-no-floor',
      severity: 'error',
      comment: 'HTTP routes and views, the workers and the CLI reach the database only through src/services.',
      from: { path: '^(src/http/|workers/|src/cli\\.ts$)' },
      to: { path: '^src/db/' },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'src/domain holds the rules as pure functions: no database, queue, mail, HTTP or services.',
      from: { path: '^src/domain/' },
      to: { path: '^(src/(?!domain/)|workers/)' },
    },
    {
      name: 'db-is-a-floor',
      severity: 'error',
      comment: 'The data layer knows nothing above it.',
      from: { path: '^src/db/' },
      to: { path: '^(src/(services|http|mail|queue)/|workers/|src/cli\\.ts$)' },
    },
    {
      name: 'services-below-doors',
      severity: 'error',
      comment: 'Services are called by the doors, never the other way round.',
      from: { path: '^src/services/' },
      to: { path: '^(src/http/|workers/|src/cli\\.ts$|src/main\\.ts$)' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
