import { pino, type DestinationStream, type Logger } from 'pino';
import { redactLinks } from './domain/redaction.js';

export type { Logger } from 'pino';

/**
 * One JSON line per event, with `time`, `level` and `msg`, plus the request id, campaign id and
 * actor where there is one. No token may reach a log: every string passed to a log call has its
 * approval and sign-in link tokens removed, and requests are logged by route and path, never with
 * their query, headers or body.
 */
export function createLogger(destination?: DestinationStream, options: { level?: string } = {}): Logger {
  return pino(
    {
      base: { service: 'countersign', pid: process.pid },
      level: options.level ?? 'info',
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((arg) => (typeof arg === 'string' ? redactLinks(arg) : arg));
          return method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
      serializers: { err: (error: Error) => ({ type: error.name, message: redactLinks(error.message) }) },
    },
    destination ?? pino.destination(1),
  );
}

/** Logs nothing: the default where no logger is given (tests, the CLI). */
export const silentLogger: Logger = pino({ enabled: false });
