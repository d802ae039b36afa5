import { createGunzip, createInflate } from 'node:zlib';
import type { Request, Response } from 'express';
import { AppError, invalid } from '../services/errors.js';
import type { ImportSource } from '../services/lists.js';

/**
 * The request body as it arrives, with any gzip or deflate content encoding undone (so a size cap counts
 * what it expands to). A reader that stops early leaves the request open, so the refusal can be answered
 * on it (see `endAfterEarlyAnswer`).
 */
export function requestChunks(req: Request): AsyncIterable<Uint8Array> {
  const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity') return req.iterator({ destroyOnReturn: false });
  if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') {
    const inflate = encoding === 'deflate' ? createInflate() : createGunzip();
    return req.pipe(inflate);
  }
  throw invalid([{ field: 'content-encoding', message: `"${encoding}" is not supported; send gzip, deflate or no encoding` }]);
}

/** A member import in the request body: `text/csv` (or `text/plain`), or JSON. */
export function importSource(req: Request): ImportSource {
  if (req.is(['text/csv', 'text/plain'])) {
    const charset = /;\s*charset="?([^";\s]+)/i.exec(req.get('content-type') ?? '')?.[1];
    return { format: 'csv', chunks: requestChunks(req), charset };
  }
  if (req.is('application/json')) return { format: 'json', chunks: requestChunks(req) };
  throw invalid([{ field: 'members', message: 'send the members as text/csv or application/json' }]);
}

/**
 * The API reads JSON: a body of another type (a form post, say) is refused with 415 and a hint, before
 * anything reads it. `alsoAccepted` names other types a route takes (CSV for suppressions).
 */
export function jsonOnly(alsoAccepted: Record<string, string[]> = {}) {
  return (req: Request, _res: Response, next: (error?: unknown) => void) => {
    const accepted = ['application/json', ...(alsoAccepted[req.path] ?? [])];
    // `is` is null for a request without a body, false for a body of any other type; an empty body has none to read.
    if (req.get('content-length') === '0' || req.is(accepted) !== false) return next();
    const sent = req.get('content-type') ?? 'no Content-Type';
    next(
      new AppError(
        415,
        'unsupported_media_type',
        `the API reads ${accepted.join(' or ')} bodies, not ${sent}: send JSON with Content-Type: application/json`,
      ),
    );
  };
}

/** What a client may still send after an early answer before it is cut off. */
const AFTER_ANSWER_MAX_BYTES = 1024 * 1024;

/**
 * After an answer given before the body was read to its end. It says `Connection: close`, so the client
 * opens a new connection for its next request. Node would then close the socket as soon as the answer is
 * out; with data still arriving that is a reset, and the client may lose the answer. So the server only
 * ends its side and reads on, dropping what comes, until the client ends its side too (the socket then
 * closes) or has sent a megabyte more.
 */
export function endAfterEarlyAnswer(req: Request, res: Response): void {
  if (req.complete || res.headersSent) return;
  res.setHeader('Connection', 'close');
  const socket = req.socket;
  socket.destroySoon = () => socket.end();
  req.unpipe();
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > AFTER_ANSWER_MAX_BYTES) socket.destroy();
  });
  req.resume();
}
