import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, runToEnd } from './processes.js';

export const redisServerInstalled = ['redis-server', 'redis-cli'].every(
  (binary) => spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0,
);
export const REDIS_SERVER_MISSING =
  'redis-server is not installed (apt-get install redis-server): the Sentinel and Cluster tests start their own servers';
export const opensslInstalled = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
export const OPENSSL_MISSING = 'openssl is not installed (apt-get install openssl): the TLS tests make their certificates with it';

/** What every test server runs with: nothing on disk, and the policy Countersign requires. */
const COMMON = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];

interface Started {
  port: number;
  child: ChildProcess;
}

/** PEM files: a CA, and a certificate it signed for 127.0.0.1 with its key. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1, made with openssl in `dir`. */
async function makeTlsFiles(dir: string): Promise<TlsFiles> {
  const files = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') };
  const caKey = path.join(dir, 'ca.key');
  const request = path.join(dir, 'server.csr');
  const extensions = path.join(dir, 'server.ext');
  await writeFile(extensions, 'subjectAltName=IP:127.0.0.1\n');
  const steps = [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', files.ca, '-days', '1', '-subj', '/CN=countersign test CA'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.key, '-out', request, '-subj', '/CN=127.0.0.1'],
    [
      'x509',
      '-req',
      '-in',
      request,
      '-CA',
      files.ca,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      files.cert,
      '-days',
      '1',
      '-extfile',
      extensions,
    ],
  ];
  for (const step of steps) {
    const made = await runToEnd('openssl', step, { cwd: dir });
    if (made.status !== 0) throw new Error(`openssl ${step.join(' ')} failed:\n${made.stderr}`);
  }
  return files;
}

/** Server arguments that listen on `port` only, over TLS, and replicate over TLS; clients need no certificate. */
const tlsArgs = (tls: TlsFiles, port: number) => [
  '--port',
  '0',
  '--tls-port',
  String(port),
  '--tls-cert-file',
  tls.cert,
  '--tls-key-file',
  tls.key,
  '--tls-ca-cert-file',
  tls.ca,
  '--tls-auth-clients',
  'no',
  '--tls-replication',
  'yes',
];

/**
 * Starts `redis-server` with `args` (on TLS only, given `tls`); resolves once it logs `ready` (it logs to stdout).
 * A port found free can be taken before the server binds it (by a test file running beside, or by a
 * server of the same set starting at once): the server then exits saying so, and starts again on new ports.
 */
async function startServer(args: () => Promise<string[]>, ready: string | RegExp, tls?: TlsFiles): Promise<Started> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(await args(), ready, tls);
    } catch (error) {
      if (attempt === 5 || !(error instanceof PortTakenError)) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(args: string[], ready: string | RegExp, tls?: TlsFiles): Promise<Started> {
  const port = await freePort();
  const listen = tls ? tlsArgs(tls, port) : ['--port', String(port)];
  const child = spawn('redis-server', [...args, ...listen], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (typeof ready === 'string' ? output.includes(ready) : ready.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      const failure = `redis-server ${args.join(' ')} exited with ${code}:\n${output}`;
      reject(output.includes('Address already in use') ? new PortTakenError(failure) : new Error(failure));
    });
  });
  return { port, child };
}

/** A set of redis-server processes in a temp folder of their own, stopped together. */
export class RedisProcesses {
  readonly children: ChildProcess[] = [];

  /** Set: every server and sentinel listens on TLS only. */
  tls?: TlsFiles;

  protected constructor(readonly dir: string) {}

  /** `args` may be a function, called again for each attempt, when they name a port of their own. */
  protected async start(name: string, args: string[] | (() => Promise<string[]>), ready: string | RegExp): Promise<number> {
    const dir = path.join(this.dir, name);
    await mkdir(dir);
    const started = await startServer(async () => [...(typeof args === 'function' ? await args() : args), '--dir', dir], ready, this.tls);
    this.children.push(started.child);
    return started.port;
  }

  /** A plain connection to one of these servers, over TLS when they listen on it. */
  connect(port: number, password: string): Redis {
    return new Redis({ host: '127.0.0.1', port, password, ...(this.tls ? { tls: { ca: readFileSync(this.tls.ca) } } : {}) });
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** `masters` masters sharing every slot, each with one replica unless told; each node wants `password`. */
export class RedisCluster extends RedisProcesses {
  /** The masters as started (a failover makes a replica one). */
  ports: number[] = [];
  /** Each master's replica, by the master's port. */
  readonly replicaOf = new Map<number, number>();

  static async start(password: string, options: { masters?: number; replicas?: boolean; tls?: boolean } = {}): Promise<RedisCluster> {
    const { masters = 3, replicas = true } = options;
    const cluster = new RedisCluster(await mkdtemp(path.join(tmpdir(), 'cs-redis-cluster-')));
    try {
      if (options.tls) cluster.tls = await makeTlsFiles(cluster.dir);
      const started = await Promise.all(
        Array.from({ length: replicas ? 2 * masters : masters }, async (_, i) => {
          // The bus port is given too: port + 10000, the default, may be out of range or taken.
          let busPort = 0;
          const args = async () => [
            ...COMMON,
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-port',
            String((busPort = await freePort())),
            '--requirepass',
            password,
            '--masterauth',
            password,
            // No wait before a replica's diskless full sync (5 s by default).
            '--repl-diskless-sync-delay',
            '0',
            // The cluster bus on TLS too.
            ...(options.tls ? ['--tls-cluster', 'yes'] : []),
          ];
          return { port: await cluster.start(`node${i}`, args, 'Ready to accept connections'), busPort };
        }),
      );
      cluster.ports = started.slice(0, masters).map((node) => node.port);
      // What `redis-cli --cluster create` does, without its one-second waits: share out the slots,
      // introduce the nodes, make the rest replicas. Gossip spreads the news; there is no event to wait on.
      const nodes = started.map(({ port }) => cluster.connect(port, password));
      const until = async (what: string, check: () => Promise<boolean>) => {
        const deadline = Date.now() + 10_000;
        while (!(await check())) {
          if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} did not happen within 10 s`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      try {
        const share = Math.ceil(16384 / masters);
        await Promise.all(
          nodes.slice(0, masters).map((node, i) => node.call('CLUSTER', 'ADDSLOTSRANGE', i * share, Math.min(16383, (i + 1) * share - 1))),
        );
        await Promise.all(nodes.slice(1).map((node) => node.call('CLUSTER', 'MEET', '127.0.0.1', started[0]!.port, started[0]!.busPort)));
        for (let i = 0; i < nodes.length - masters; i++) {
          const master = nodes[i]!;
          const replica = nodes[masters + i]!;
          const id = String(await master.call('CLUSTER', 'MYID'));
          await until(`node ${replica.options.port} learning of ${master.options.port}`, async () =>
            String(await replica.call('CLUSTER', 'NODES')).includes(id),
          );
          await replica.cluster('REPLICATE', id);
          cluster.replicaOf.set(started[i]!.port, started[masters + i]!.port);
        }
        for (const node of nodes) {
          await until(`node ${node.options.port} reaching cluster_state:ok`, async () =>
            /cluster_state:ok/.test(await node.cluster('INFO')),
          );
        }
        for (const replica of nodes.slice(masters)) {
          await until(`replica ${replica.options.port} in sync`, async () =>
            /master_link_status:up/.test(await replica.info('replication')),
          );
        }
      } finally {
        for (const node of nodes) node.disconnect();
      }
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }
}

/**
 * A master and one replica, both wanting `password`, watched by two sentinels as `name` (quorum 1,
 * so either may fail the master over); the sentinels want `sentinelPassword`.
 */
export class RedisSentinels extends RedisProcesses {
  masterPort = 0;
  replicaPort = 0;
  sentinelPorts: number[] = [];

  static async start(name: string, password: string, sentinelPassword: string, options: { tls?: boolean } = {}): Promise<RedisSentinels> {
    const set = new RedisSentinels(await mkdtemp(path.join(tmpdir(), 'cs-redis-sentinel-')));
    try {
      if (options.tls) set.tls = await makeTlsFiles(set.dir);
      const auth = ['--requirepass', password, '--masterauth', password];
      // No wait before a diskless full sync (5 s by default, for more replicas to join it).
      set.masterPort = await set.start('master', [...COMMON, ...auth, '--repl-diskless-sync-delay', '0'], 'Ready to accept connections');
      set.replicaPort = await set.start(
        'replica',
        [...COMMON, ...auth, '--replicaof', '127.0.0.1', String(set.masterPort)],
        'MASTER <-> REPLICA sync: Finished with success',
      );
      for (const i of [0, 1]) {
        // Sentinel rewrites its configuration file as it learns, so each has its own, writable.
        const file = path.join(set.dir, `sentinel${i}.conf`);
        await writeFile(
          file,
          [
            'bind 127.0.0.1',
            `requirepass ${sentinelPassword}`,
            `sentinel monitor ${name} 127.0.0.1 ${set.masterPort} 1`,
            `sentinel auth-pass ${name} ${password}`,
            `sentinel down-after-milliseconds ${name} 2000`,
            `sentinel failover-timeout ${name} 10000`,
            '',
          ].join('\n'),
        );
        set.sentinelPorts.push(await set.start(`sentinel${i}`, [file, '--sentinel'], '+monitor master'));
      }
      // A forced failover needs a replica the sentinel has seen healthy, which it learns from the master's INFO.
      const sentinel = set.sentinel(sentinelPassword);
      const deadline = Date.now() + 15_000;
      for (;;) {
        const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', name)) as string[][];
        const healthy = replicas.some((fields) => {
          const info = Object.fromEntries(fields.flatMap((_, i) => (i % 2 ? [] : [[fields[i], fields[i + 1]]])));
          return info.port === String(set.replicaPort) && info.flags === 'slave' && info['master-link-status'] === 'ok';
        });
        if (healthy) break;
        if (Date.now() > deadline) throw new Error(`sentinel never saw the replica on ${set.replicaPort}: ${JSON.stringify(replicas)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      sentinel.disconnect();
      return set;
    } catch (error) {
      await set.stop();
      throw error;
    }
  }

  get sentinelList(): string {
    return this.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',');
  }

  /** A plain connection to the first sentinel, for its commands and its `+switch-master` events. */
  sentinel(sentinelPassword: string): Redis {
    return this.connect(this.sentinelPorts[0]!, sentinelPassword);
  }
}
