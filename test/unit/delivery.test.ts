import { describe, expect, it } from 'vitest';
import {
  CORRECTION_AUDIENCE_STATUSES,
  DELIVERY_STATUSES,
  FINAL_DELIVERY_STATUSES,
  classifySmtpError,
  countsAsLedgerSays,
  shouldAutoHalt,
  attemptsWorthCounting,
} from '../../src/domain/delivery.js';
import { CAMPAIGN_STATUSES } from '../../src/domain/campaign-state.js';

/** Builds an error shaped like nodemailer's: an Error with SMTP details attached. */
function smtpError(
  message: string,
  details: { code?: string; originalCode?: string; timeoutType?: string; responseCode?: number; response?: string; command?: string },
) {
  return Object.assign(new Error(message), details);
}

// The shapes marked "seen" are what nodemailer 10 raised against a real server failing at that
// stage (test/unit/smtp-stages.test.ts raises them again); the others are read from its source.
// Every dropped or timed-out connection comes with command 'CONN', whatever the stage, so
// only the code, originalCode and timeoutType tell whether the message could have gone out.
describe('classifySmtpError', () => {
  describe('5xx replies are permanent', () => {
    it.each([500, 550, 551, 552, 553, 554, 599])('%i', (responseCode) => {
      const response = `${responseCode} 5.1.1 refused`;
      const outcome = classifySmtpError(smtpError('Message failed', { code: 'EENVELOPE', responseCode, response, command: 'RCPT TO' }));
      expect(outcome).toEqual({ kind: 'permanent', response });
    });

    it.each([
      [
        'a 554 greeting (seen)',
        smtpError('Invalid greeting. response=554 No service: 554 No service', {
          code: 'EPROTOCOL',
          responseCode: 554,
          response: '554 No service',
          command: 'CONN',
        }),
      ],
      [
        'MAIL FROM 550 (seen)',
        smtpError('Mail command failed: 550 Sender refused', {
          code: 'EENVELOPE',
          responseCode: 550,
          response: '550 Sender refused',
          command: 'MAIL FROM',
        }),
      ],
      [
        'DATA command 554 (seen)',
        smtpError('Data command failed: 554 No data now', {
          code: 'EENVELOPE',
          responseCode: 554,
          response: '554 No data now',
          command: 'DATA',
        }),
      ],
    ])('%s', (_label, error) => {
      expect(classifySmtpError(error)).toEqual({ kind: 'permanent', response: error.response });
    });

    it('a 5xx reply to the end of DATA is permanent, not ambiguous: the server said no (seen)', () => {
      const error = smtpError('Message failed: 554 Message refused', {
        code: 'EMESSAGE',
        responseCode: 554,
        response: '554 Message refused',
        command: 'DATA',
      });
      expect(classifySmtpError(error).kind).toBe('permanent');
    });
  });

  describe('4xx replies are transient', () => {
    it.each([400, 421, 450, 451, 452, 499])('%i', (responseCode) => {
      const response = `${responseCode} 4.7.0 try later`;
      const outcome = classifySmtpError(
        smtpError('Temporary failure', { code: 'EENVELOPE', responseCode, response, command: 'MAIL FROM' }),
      );
      expect(outcome).toEqual({ kind: 'transient', response });
    });

    it.each([
      [
        'a 421 greeting (seen)',
        smtpError('Invalid greeting. response=421 Too busy: 421 Too busy', {
          code: 'EPROTOCOL',
          responseCode: 421,
          response: '421 Too busy',
          command: 'CONN',
        }),
      ],
      [
        'RCPT TO 450 (seen)',
        smtpError("Can't send mail - all recipients were rejected: 450 Mailbox unavailable", {
          code: 'EENVELOPE',
          responseCode: 450,
          response: '450 Mailbox unavailable',
          command: 'RCPT TO',
        }),
      ],
      [
        'DATA command 451 (seen)',
        smtpError('Data command failed: 451 No data now', {
          code: 'EENVELOPE',
          responseCode: 451,
          response: '451 No data now',
          command: 'DATA',
        }),
      ],
    ])('%s', (_label, error) => {
      expect(classifySmtpError(error)).toEqual({ kind: 'transient', response: error.response });
    });

    it('a 4xx reply to the end of DATA is transient: the server did not take it (seen)', () => {
      const error = smtpError('Message failed: 451 Message refused', {
        code: 'EMESSAGE',
        responseCode: 451,
        response: '451 Message refused',
        command: 'DATA',
      });
      expect(classifySmtpError(error).kind).toBe('transient');
    });
  });

  describe('failures that happen before any message goes out are transient', () => {
    it.each([
      [
        'connection refused (seen)',
        smtpError('connect ECONNREFUSED 127.0.0.1:25', { code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN' }),
      ],
      [
        'closed before the greeting, the pool gave up reconnecting (seen)',
        smtpError('Reached maximum number of retries after connection was closed', { code: 'ECONNECTION' }),
      ],
      ['the pool already closed (seen)', smtpError('Connection pool was closed', { code: 'ECONNECTION' })],
      ['the pool closed with the message still queued', smtpError('Connection pool was closed', {})],
      ['raw ECONNREFUSED', smtpError('connect ECONNREFUSED', { code: 'ECONNREFUSED' })],
      ['DNS failure', smtpError('getaddrinfo ENOTFOUND smtp.example.com', { code: 'EDNS', command: 'CONN' })],
      ['unknown host', smtpError('getaddrinfo ENOTFOUND', { code: 'ESOCKET', originalCode: 'ENOTFOUND', command: 'CONN' })],
      ['connect timeout', smtpError('Connection timeout', { code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT', command: 'CONN' })],
      [
        'greeting never received',
        smtpError('Greeting never received', { code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT', command: 'CONN' }),
      ],
      [
        'TLS handshake timeout',
        smtpError('TLS handshake timed out', { code: 'ETIMEDOUT', timeoutType: 'UPGRADE_TIMEOUT', command: 'CONN' }),
      ],
      ['TLS failure', smtpError('Error initiating TLS', { code: 'ETLS', command: 'CONN' })],
      ['authentication failure without a reply code', smtpError('Invalid login', { code: 'EAUTH', command: 'AUTH PLAIN' })],
      ['invalid envelope', smtpError('Invalid recipient', { code: 'EENVELOPE', command: 'API' })],
    ])('%s', (_label, error) => {
      expect(classifySmtpError(error)).toEqual({ kind: 'transient', response: error.message });
    });
  });

  describe('a connection lost mid-conversation is ambiguous (the message may have been delivered)', () => {
    it.each([
      ['closed without a reply to the final dot (seen)', { code: 'ECONNECTION', command: 'CONN' }],
      ['reset without a reply to the final dot (seen)', { code: 'ESOCKET', originalCode: 'ECONNRESET', command: 'CONN' }],
      [
        'socket timeout waiting for the reply to the final dot (seen)',
        { code: 'ETIMEDOUT', timeoutType: 'SOCKET_TIMEOUT', command: 'CONN' },
      ],
      // Nothing had arrived whole, but the error is the very one of a close after the dot.
      ['closed inside the body (seen)', { code: 'ECONNECTION', command: 'CONN' }],
      ['unexpected response', { code: 'EPROTOCOL', command: 'CONN' }],
    ])('%s', (_label, details) => {
      const error = smtpError('Connection lost', details);
      expect(classifySmtpError(error)).toEqual({ kind: 'ambiguous', response: 'Connection lost' });
    });

    it('a timeout that does not say which is treated as ambiguous (it could be after DATA)', () => {
      expect(classifySmtpError(smtpError('Timeout', { code: 'ETIMEDOUT' })).kind).toBe('ambiguous');
    });

    it('a failure of our own message stream is not ambiguous', () => {
      expect(classifySmtpError(smtpError('stream broke', { code: 'ESTREAM', command: 'DATA' })).kind).toBe('transient');
    });
  });

  describe('the response text', () => {
    it('prefers the server response', () => {
      const error = smtpError('Message failed: 550 no such user', { responseCode: 550, response: '550 no such user' });
      expect(classifySmtpError(error).response).toBe('550 no such user');
    });

    it('falls back to the error message', () => {
      expect(classifySmtpError(smtpError('Connection closed unexpectedly', { code: 'ECONNECTION', command: 'CONN' })).response).toBe(
        'Connection closed unexpectedly',
      );
    });

    it('works on a plain object with nothing but a message', () => {
      expect(classifySmtpError({ message: 'odd failure' })).toEqual({ kind: 'transient', response: 'odd failure' });
    });

    it('works on an object with nothing at all', () => {
      expect(classifySmtpError({}).kind).toBe('transient');
      expect(typeof classifySmtpError({}).response).toBe('string');
    });
  });
});

describe('attemptsWorthCounting', () => {
  it('decides as the full count does, for every count of failures and attempts up to 400', () => {
    const disagreements: string[] = [];
    for (const [rate, min] of [
      [0.2, 50],
      [0.05, 10],
      [0.5, 1],
      [1, 5],
    ] as const) {
      for (let attempted = 0; attempted <= 400; attempted++) {
        for (let failed = 0; failed <= attempted; failed++) {
          const counted = Math.min(attempted, attemptsWorthCounting(failed, rate, min));
          if (shouldAutoHalt({ failed, attempted: counted }, rate, min) !== shouldAutoHalt({ failed, attempted }, rate, min))
            disagreements.push(`${failed} of ${attempted} at ${rate}, at least ${min}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('asks for a share of the ledger, not all of it, when failures are few', () => {
    expect(attemptsWorthCounting(1000, 0.2, 50)).toBe(5001);
    expect(attemptsWorthCounting(0, 0.2, 50)).toBe(50);
  });
});

describe('shouldAutoHalt', () => {
  it('does not halt before the minimum number of attempts', () => {
    expect(shouldAutoHalt({ failed: 9, attempted: 9 }, 0.2, 10)).toBe(false);
  });

  it('halts once the failure share passes the rate with enough attempts', () => {
    expect(shouldAutoHalt({ failed: 3, attempted: 10 }, 0.2, 10)).toBe(true);
  });

  it('does not halt at exactly the rate (it must be passed)', () => {
    expect(shouldAutoHalt({ failed: 2, attempted: 10 }, 0.2, 10)).toBe(false);
  });

  it('does not halt below the rate', () => {
    expect(shouldAutoHalt({ failed: 1, attempted: 100 }, 0.2, 10)).toBe(false);
  });

  it('does not halt with no failures', () => {
    expect(shouldAutoHalt({ failed: 0, attempted: 1000 }, 0, 10)).toBe(false);
  });
});

describe('delivery statuses', () => {
  it('queued and sending are the only statuses a worker may still act on', () => {
    expect(DELIVERY_STATUSES.filter((s) => !FINAL_DELIVERY_STATUSES.includes(s)).sort()).toEqual(['queued', 'sending']);
  });

  it('unknown is final: it is never resent automatically', () => {
    expect(FINAL_DELIVERY_STATUSES).toContain('unknown');
  });

  it('a correction goes to sent and unknown deliveries, and nobody else', () => {
    expect([...CORRECTION_AUDIENCE_STATUSES].sort()).toEqual(['sent', 'unknown']);
  });
});

describe('countsAsLedgerSays', () => {
  const counts = { queued: 70, sending: 5, sent: 20, failed: 1, halted: 4, skipped: 0, unknown: 2 };

  it('leaves the counts of a sending campaign as they are: its queued rows may still go out', () => {
    expect(countsAsLedgerSays(counts, 'sending')).toEqual(counts);
  });

  it('counts the queued rows of every campaign that is not sending as halted, and changes nothing else', () => {
    for (const status of CAMPAIGN_STATUSES.filter((s) => s !== 'sending')) {
      expect(countsAsLedgerSays(counts, status)).toEqual({ ...counts, queued: 0, halted: 74 });
    }
  });
});
