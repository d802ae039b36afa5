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

  it.each(['yes', '10.0.0.0/33', '300.1.1.1', 'loopback,proxy.example.com', '10.0.0.0/8/8', ','])('refuses %j, naming the variable', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY: a hop count, true, false, or a list/);
  });
});
