import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { migratedDataDir, REDIS_URL, testDb } from '../support/harness.js';
import { freePort, launch, ROOT, runToEnd } from '../support/processes.js';

const require = createRequire(import.meta.url);

/** `src/main.ts` from the sources (or, given `builtMain`, that build's main, as `npm start` runs it), with only the environment given. */
/** What one Countersign process on the data folder needs: a free port, its public URL, Redis and a queue prefix of its own. */
async function oneProcessEnv(dataDir: string, prefix: string) {
  const port = await freePort();
  return { DATA_DIR: dataDir, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, REDIS_URL, QUEUE_PREFIX: `${prefix}-${port}` };
}

function start(args: string[], env: Record<string, string>, ready?: string, builtMain?: string) {
  return launch(args, { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', ...env }, { ready, builtMain });
}

// Whole processes on the embedded defaults: run once, in the PGlite project. Each test has its own
// folders and ports, and mostly waits on a child process, so they run at the same time.
describe.skipIf(testDb() !== 'pglite').concurrent('starting Countersign', () => {
  // This test and the next start on a data folder as a first start left it (creating one costs
  // about 9 s of CPU): the build and the CLI tests below create theirs.
  it('runs API and workers in one process on PGlite, refuses a second process on the same data folder, and stops cleanly', async () => {
    const dataDir = migratedDataDir()!;
    try {
      const env = await oneProcessEnv(dataDir, 'cs-start');
      const first = start([], env);
      expect(await first.settled).toEqual({ ready: true });
      expect(first.output()).toContain(`embedded PGlite in ${dataDir}`);
      expect(first.output()).toContain('file outbox');
      expect(await (await fetch(`${env.PUBLIC_URL}/healthz`)).json()).toEqual({ ok: true });
      expect(existsSync(path.join(dataDir, 'pglite.lock'))).toBe(true);

      const second = start([], { ...env, PORT: String(await freePort()) });
      expect(await second.settled).toEqual({ ready: false, code: 1 });
      expect(second.output()).toMatch(/in use by another Countersign process .* set DATABASE_URL/s);

      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
      expect(readdirSync(dataDir)).toContain('pglite');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('starts a private redis-server when none answers, and says so', async () => {
    const dataDir = migratedDataDir()!;
    try {
      const port = await freePort();
      const run = start([], { DATA_DIR: dataDir, PORT: String(port), REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
      expect(await run.settled).toEqual({ ready: true });
      expect(run.output()).toMatch(/started a private redis-server .* on .*redis\.sock/);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses wrong configuration with a message naming the variable', async () => {
    const run = start([], { REQUIRED_APPROVALS: 'two', SMTP_URL: 'http://nope' });
    expect(await run.settled).toEqual({ ready: false, code: 1 });
    expect(run.output()).toContain('REQUIRED_APPROVALS: ');
    expect(run.output()).toContain('SMTP_URL: must be an smtp:// or smtps:// URL');
  });

  it('runs from the build, which finds its page assets and mail templates outside dist/', async () => {
    // A package of its own in a temporary folder, so the suite never writes the working tree's dist/:
    // the build in dist/, beside links to what an installed package holds next to it.
    const pkg = mkdtempSync(path.join(tmpdir(), 'countersign-package-'));
    try {
      mkdirSync(path.join(pkg, 'src/http'), { recursive: true });
      for (const entry of ['package.json', 'node_modules', 'templates', 'src/http/assets'])
        symlinkSync(path.join(ROOT, entry), path.join(pkg, entry));
      const build = await runToEnd(
        process.execPath,
        [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(pkg, 'dist')],
        { cwd: ROOT },
      );
      expect(build.stdout + build.stderr).toBe('');
      expect(build.status).toBe(0);

      const dataDir = mkdtempSync(path.join(tmpdir(), 'countersign-built-'));
      const env = await oneProcessEnv(dataDir, 'cs-built');
      const run = start([], env, undefined, path.join(pkg, 'dist/src/main.js'));
      expect(await run.settled).toEqual({ ready: true });
      const css = await fetch(`${env.PUBLIC_URL}/assets/app.css`);
      expect(css.status).toBe(200);
      expect(await css.text()).toBe(readFileSync(path.join(ROOT, 'src/http/assets/app.css'), 'utf8'));
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);

      const templatesModule = pathToFileURL(path.join(pkg, 'dist/src/mail/templates.js')).href;
      const templates = await runToEnd(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { template } = await import('${templatesModule}'); console.log([...template('layout.html').variables].sort().join(' '))`,
        ],
        { cwd: tmpdir() },
      );
      expect(templates.stderr).toBe('');
      expect(templates.stdout.trim()).toBe('content footer preheader subject');
    } finally {
      rmSync(pkg, { recursive: true, force: true });
    }
    // tsc alone takes half a minute on a loaded two-core machine.
  }, 180_000);

  it('says so and stops when it cannot create the embedded database', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'countersign-blocked-'));
    writeFileSync(path.join(dataDir, 'pglite'), 'a file where the database folder should be');
    const run = start([], { DATA_DIR: dataDir, PORT: String(await freePort()), REDIS_URL, QUEUE_PREFIX: 'cs-blocked' });
    expect(await run.settled).toEqual({ ready: false, code: 1 });
    expect(run.output()).toContain(`creating the embedded database in ${path.join(dataDir, 'pglite')} failed`);
    expect(readdirSync(dataDir)).toEqual(['pglite']);
  });

  it('creates the embedded database from the installed CLI, run from any folder', async () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'countersign-cli-')), 'data');
    const added = await runToEnd(
      process.execPath,
      [path.join(ROOT, 'bin/countersign.js'), 'user', 'add', '--email', 'ana@example.com', '--name', 'Ana', '--roles', 'author'],
      {
        cwd: tmpdir(),
        env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', DATA_DIR: dataDir },
      },
    );
    expect(added.stderr).toBe('');
    expect(added.status).toBe(0);
    expect(added.stdout).toContain('API token (shown once)');
    expect(readdirSync(path.join(dataDir, 'pglite'))).toContain('PG_VERSION');
  }, 60_000);

  it('refuses to run the API or the workers alone on the embedded database', async () => {
    const run = start(['workers'], { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'countersign-w-')) });
    expect(await run.settled).toEqual({ ready: false, code: 1 });
    expect(run.output()).toContain('needs DATABASE_URL');
  });
});
