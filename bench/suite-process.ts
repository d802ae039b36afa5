import { runSuite, type SuiteOptions } from './suite.js';

// One database per process, so each run's RSS is its own and nothing one run leaves
// in memory (PGlite's heap, caches) weighs on the other.
process.once('message', (options: Omit<SuiteOptions, 'log'>) => {
  runSuite({ ...options, log: (line) => console.error(line) }).then(
    (result) => process.send!({ result }, () => process.disconnect()),
    (error: Error) => process.send!({ error: error.stack ?? error.message }, () => process.disconnect()),
  );
});
