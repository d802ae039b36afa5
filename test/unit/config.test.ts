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
    expect(loadConfig({}).DELIVERY_CLAIM_SIZE).toBe(20);
    expect(loadConfig({ SMTP_MAX_CONNECTIONS: '10' }).DELIVERY_CLAIM_SIZE).toBe(20);
    expect(loadConfig({ SMTP_MAX_CONNECTIONS: '20' }).DELIVERY_CLAIM_SIZE).toBe(40);
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
