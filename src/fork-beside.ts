import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

// By its path, not its name: `--import tsx` is looked up from the working directory, which may be anywhere.
const tsxLoader = (): string => pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Forks the module `name` from the folder of `from` (an import.meta.url), in the form the caller runs in:
 * the build's .js with this process's node flags, or the TypeScript source through tsx.
 */
export function forkBeside(from: string, name: string, args: string[] = [], options: Omit<ForkOptions, 'execArgv'> = {}): ChildProcess {
  const fromSource = from.endsWith('.ts');
  const file = fileURLToPath(new URL(`./${name}${fromSource ? '.ts' : '.js'}`, from));
  return fork(file, args, { ...options, execArgv: fromSource ? ['--import', tsxLoader()] : process.execArgv });
}
