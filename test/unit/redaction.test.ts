import { describe, expect, it } from 'vitest';
import { redactLinks } from '../../src/domain/redaction.js';

describe('redactLinks', () => {
  it('removes the token of every approval and sign-in link, and nothing else', () => {
    const text = 'open https://cs.example.com/approve/AbC123_-xyz890 or /sign-in/q9Z8y7X6w5V4 now; see /approve/ and /campaigns/42';
    expect(redactLinks(text)).toBe(
      'open https://cs.example.com/approve/[redacted] or /sign-in/[redacted] now; see /approve/ and /campaigns/42',
    );
  });
});
