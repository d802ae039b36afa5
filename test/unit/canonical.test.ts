import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/domain/canonical.js';

describe('canonicalJson', () => {
  it('sorts object keys', () => {
    expect(canonicalJson({ b: 1, a: 2, c: 3 })).toBe('{"a":2,"b":1,"c":3}');
  });

  it('sorts keys at every depth, including objects inside arrays', () => {
    expect(canonicalJson({ z: { y: 1, x: [{ b: 1, a: 2 }] }, a: null })).toBe('{"a":null,"z":{"x":[{"a":2,"b":1}],"y":1}}');
  });

  it('the same value gives the same text whatever the key insertion order', () => {
    const one = { subject: 's', nested: { p: 1, q: [1, 2], r: { s: 't', u: 'v' } }, n: 3 };
    const two = { n: 3, nested: { r: { u: 'v', s: 't' }, q: [1, 2], p: 1 }, subject: 's' };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
  });

  it('keeps array order (order in an array is meaning)', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });

  it('sorts by code unit, so upper case comes before lower case', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, A: 4 })).toBe('{"A":4,"B":2,"a":3,"b":1}');
  });

  it('writes dates as ISO-8601 UTC text', () => {
    expect(canonicalJson({ at: new Date(Date.UTC(2030, 0, 2, 9, 0, 0, 5)) })).toBe('{"at":"2030-01-02T09:00:00.005Z"}');
  });

  it('leaves out undefined properties but keeps null', () => {
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });

  it('distinguishes types that print alike', () => {
    expect(canonicalJson({ n: 1 })).not.toBe(canonicalJson({ n: '1' }));
    expect(canonicalJson({ n: null })).not.toBe(canonicalJson({ n: 'null' }));
    expect(canonicalJson({ n: false })).not.toBe(canonicalJson({ n: 'false' }));
  });

  it('passes scalars through as JSON', () => {
    expect(canonicalJson('x"y')).toBe('"x\\"y"');
    expect(canonicalJson(42)).toBe('42');
    expect(canonicalJson(null)).toBe('null');
  });
});

describe('sha256Hex', () => {
  it('is the lower-case hex SHA-256 of the UTF-8 text', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('héllo')).toBe(createHash('sha256').update(Buffer.from('héllo', 'utf8')).digest('hex'));
  });
});
