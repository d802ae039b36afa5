import { runScale, type ScaleOptions } from './scale.js';
import { SinkClient } from './sink-client.js';
import { runSplit, type SplitOptions } from './split.js';
import { runSuite, type SuiteOptions } from './suite.js';

export type ChildRequest =
  | { suite: Omit<SuiteOptions, 'log'> }
  | { split: Omit<SplitOptions, 'log'> & { writeDir?: string } }
  | { scale: Omit<ScaleOptions, 'log'> & { writeDir?: string } };

const log = (line: string) => console.error(line);

async function run(request: ChildRequest): Promise<unknown> {
  if ('suite' in request) return runSuite({ ...request.suite, log });
  const sink = await SinkClient.start('split' in request ? request.split.writeDir : request.scale.writeDir);
  try {
    return 'split' in request ? await runSplit(sink, { ...request.split, log }) : await runScale(sink, { ...request.scale, log });
  } finally {
    await sink.stop();
  }
}

// One measurement per process, so each run's RSS is its own and nothing one run leaves
// in memory (PGlite's heap, caches) weighs on the other.
process.once('message', (request: ChildRequest) => {
  run(request).then(
    (result) => process.send!({ result }, () => process.disconnect()),
    (error: Error) => process.send!({ error: error.stack ?? error.message }, () => process.disconnect()),
  );
});
