import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('TRUST_PROXY', () => {
  it.each([
    ['1', 1],
    ['2', 2],
    ['0', 0],
    ['true', true],
    ['false', false],
    ['loopback', ['loopback']],
    ['10.0.0.0/8, 192.168.1.7 ,fd00::/8,uniquelocal', ['10.0.0.0/8', '192.168.1.7', 'fd00::/8', 'uniquelocal']],
  ])('takes %j as %j', (value, parsed) => {
    expect(loadConfig({ TRUST_PROXY: value }).TRUST_PROXY).toEqual(parsed);
  });

  it('is loopback by default', () => {
    expect(loadConfig({}).TRUST_PROXY).toEqual(['loopback']);
  });

  it.each(['yes', '10.0.0.0/33', '300.1.1.1', 'loopback,proxy.example.com', '10.0.0.0/8/8', ','])(
    'refuses %j, naming the variable',
    (value) => {
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(ConfigError);
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY: a hop count, true, false, or a list/);
    },
  );
});

describe('least privilege and audit settings', () => {
  it('takes MIGRATION_DATABASE_URL only beside DATABASE_URL, the role it grants to', () => {
    expect(() => loadConfig({ MIGRATION_DATABASE_URL: 'postgres://owner@db/countersign' })).toThrow(
      /MIGRATION_DATABASE_URL: needs DATABASE_URL/,
    );
    expect(
      loadConfig({ DATABASE_URL: 'postgres://app@db/countersign', MIGRATION_DATABASE_URL: 'postgres://owner@db/countersign' }),
    ).toMatchObject({
      MIGRATION_DATABASE_URL: 'postgres://owner@db/countersign',
    });
  });

  it('needs AUDIT_KEY, of at least 32 characters, wherever checkpoints are to be written', () => {
    expect(() => loadConfig({ AUDIT_CHECKPOINT_DIR: '/var/lib/countersign/checkpoints' })).toThrow(
      /AUDIT_KEY: needed to sign the checkpoints/,
    );
    expect(() => loadConfig({ AUDIT_CHECKPOINT_EMAIL: 'records@example.com' })).toThrow(/AUDIT_KEY: needed to sign the checkpoints/);
    expect(() => loadConfig({ AUDIT_KEY: 'short', AUDIT_CHECKPOINT_DIR: '/tmp/x' })).toThrow(/AUDIT_KEY: at least 32 characters/);
    expect(loadConfig({ AUDIT_KEY: 'k'.repeat(32), AUDIT_CHECKPOINT_DIR: '/tmp/x' })).toMatchObject({
      AUDIT_CHECKPOINT_INTERVAL_MS: 3_600_000,
    });
  });
});

describe('delivery settings', () => {
  it("sizes a deliver job's reservations from the SMTP pool unless told, so one job can keep every connection busy", () => {
    expect(loadConfig({}).DELIVERY_CLAIM_SIZE).toBe(40);
    expect(loadConfig({ SMTP_MAX_CONNECTIONS: '10' }).DELIVERY_CLAIM_SIZE).toBe(40);
    expect(loadConfig({ SMTP_MAX_CONNECTIONS: '20' }).DELIVERY_CLAIM_SIZE).toBe(80);
    expect(loadConfig({ SMTP_MAX_CONNECTIONS: '20', DELIVERY_CLAIM_SIZE: '7' }).DELIVERY_CLAIM_SIZE).toBe(7);
    expect(() => loadConfig({ DELIVERY_CLAIM_SIZE: '0' })).toThrow(/DELIVERY_CLAIM_SIZE/);
  });
});

describe('ORG_TIME_ZONE', () => {
  it('is UTC by default and takes a named zone', () => {
    expect(loadConfig({}).ORG_TIME_ZONE).toBe('UTC');
    expect(loadConfig({ ORG_TIME_ZONE: 'Europe/Paris' }).ORG_TIME_ZONE).toBe('Europe/Paris');
  });

  it.each(['Paris', 'CET+1', 'Europe/Paris '])('refuses %j, naming the variable', (value) => {
    expect(() => loadConfig({ ORG_TIME_ZONE: value })).toThrow(/ORG_TIME_ZONE: an IANA time zone such as Europe\/Paris/);
  });
});

describe('where Redis is', () => {
  it('is one endpoint by default, or REDIS_URL', () => {
    expect(loadConfig({}).REDIS).toEqual({ kind: 'url', url: 'redis://127.0.0.1:6379' });
    expect(loadConfig({ REDIS_URL: 'rediss://:pw@redis.internal:6380/2' }).REDIS).toEqual({
      kind: 'url',
      url: 'rediss://:pw@redis.internal:6380/2',
    });
  });

  it('is a master group found through sentinels, with credentials for the nodes and the sentinels', () => {
    expect(
      loadConfig({
        REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b.internal:26379,[fd00::3]:26380',
        REDIS_SENTINEL_NAME: 'countersign',
        REDIS_PASSWORD: 'node-secret',
        REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      }).REDIS,
    ).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-b.internal', port: 26379 },
        { host: 'fd00::3', port: 26380 },
      ],
      name: 'countersign',
      password: 'node-secret',
      sentinelPassword: 'sentinel-secret',
    });
  });

  it('is a Cluster seeded from its nodes, whose prefix must be a hash tag', () => {
    expect(
      loadConfig({ REDIS_CLUSTER_NODES: 'r1:6379,r2:6379', QUEUE_PREFIX: '{countersign}', REDIS_USERNAME: 'cs', REDIS_PASSWORD: 'pw' }),
    ).toMatchObject({
      QUEUE_PREFIX: '{countersign}',
      REDIS: {
        kind: 'cluster',
        nodes: [
          { host: 'r1', port: 6379 },
          { host: 'r2', port: 6379 },
        ],
        username: 'cs',
        password: 'pw',
      },
    });
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'r1:6379' })).toThrow(
      /QUEUE_PREFIX: needs a hash tag under Redis Cluster, e\.g\. \{countersign\}/,
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'r1:6379', QUEUE_PREFIX: 'eu-{}' })).toThrow(/QUEUE_PREFIX/);
  });

  it('takes a hash-tagged prefix anywhere, but one tag only', () => {
    for (const prefix of ['{countersign}', 'eu-{countersign}', '{cs}-staging', 'countersign'])
      expect(loadConfig({ QUEUE_PREFIX: prefix }).QUEUE_PREFIX).toBe(prefix);
    for (const prefix of ['{a}{b}', '{a', 'a}', 'cs:eu', '{a:b}'])
      expect(() => loadConfig({ QUEUE_PREFIX: prefix })).toThrow(/QUEUE_PREFIX: letters, digits/);
  });

  it('refuses two ways at once, and settings that belong to another way, each naming the variable', () => {
    const sentinels = { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'mymaster' };
    const cluster = { REDIS_CLUSTER_NODES: 'r1:6379', QUEUE_PREFIX: '{cs}' };
    expect(() => loadConfig({ ...sentinels, ...cluster })).toThrow(
      /REDIS_CLUSTER_NODES: set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both/,
    );
    expect(() => loadConfig({ ...sentinels, REDIS_URL: 'redis://r:6379' })).toThrow(/REDIS_URL: unset it: with REDIS_SENTINELS/);
    expect(() => loadConfig({ ...cluster, REDIS_URL: 'redis://r:6379' })).toThrow(/REDIS_URL: unset it: with REDIS_CLUSTER_NODES/);
    expect(() => loadConfig({ REDIS_SENTINELS: 's1:26379' })).toThrow(/REDIS_SENTINEL_NAME: needed with REDIS_SENTINELS/);
    expect(() => loadConfig({ REDIS_SENTINEL_NAME: 'mymaster' })).toThrow(/REDIS_SENTINEL_NAME: only with REDIS_SENTINELS/);
    expect(() => loadConfig({ ...cluster, REDIS_SENTINEL_PASSWORD: 'x' })).toThrow(/REDIS_SENTINEL_PASSWORD: only with REDIS_SENTINELS/);
    expect(() => loadConfig({ REDIS_PASSWORD: 'x' })).toThrow(
      /REDIS_PASSWORD: only with REDIS_SENTINELS or REDIS_CLUSTER_NODES; a single Redis takes them in REDIS_URL/,
    );
    expect(() => loadConfig({ REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'm' })).toThrow(
      /REDIS_SENTINELS: host:port items, .* \(not s1\)/,
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: ' , ', QUEUE_PREFIX: '{cs}' })).toThrow(
      /REDIS_CLUSTER_NODES: host:port items, comma-separated, e.g. 10.0.0.1:26379,10.0.0.2:26379 \(not empty\)/,
    );
  });

  it('takes TLS for Sentinel or Cluster, with a CA of its own, and sends a single endpoint to rediss://', () => {
    const cluster = { REDIS_CLUSTER_NODES: 'r1:6379', QUEUE_PREFIX: '{cs}' };
    expect(loadConfig({ ...cluster, REDIS_TLS: 'true', REDIS_TLS_CA: '/etc/countersign/redis-ca.pem' }).REDIS).toMatchObject({
      tls: { caFile: '/etc/countersign/redis-ca.pem' },
    });
    expect(loadConfig({ ...cluster, REDIS_TLS: 'true' }).REDIS).toMatchObject({ tls: {} });
    expect(loadConfig(cluster).REDIS).not.toHaveProperty('tls');
    expect(() => loadConfig({ REDIS_TLS: 'true' })).toThrow(
      /REDIS_TLS: only with REDIS_SENTINELS or REDIS_CLUSTER_NODES; a single Redis uses TLS with a rediss:\/\/ REDIS_URL/,
    );
    expect(() => loadConfig({ ...cluster, REDIS_TLS_CA: '/ca.pem' })).toThrow(/REDIS_TLS_CA: only with REDIS_TLS=true/);
  });
});
