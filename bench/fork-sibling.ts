import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Forks a benchmark module from this folder. `npm run bench` runs the build (dist/bench), as production
 * runs dist/src; the smoke test runs the TypeScript sources, so their children go through tsx too.
 */
export function forkSibling(name: string, options: Omit<ForkOptions, 'execArgv'> = {}): ChildProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(`./${name}${fromSource ? '.ts' : '.js'}`, import.meta.url));
  return fork(file, [], { ...options, execArgv: fromSource ? ['--import', 'tsx'] : [] });
}
