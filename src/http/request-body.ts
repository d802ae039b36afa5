import { createGunzip, createInflate } from 'node:zlib';
import type { Request } from 'express';
import { invalid } from '../services/errors.js';
import type { ImportSource } from '../services/lists.js';

/**
 * The request body as it arrives, with any gzip or deflate content encoding undone (so a size cap counts
 * what it expands to). A reader that stops early leaves the request open, so the refusal can be answered
 * on it. Nothing more is read after that answer: a client that has read it stops sending and closes,
 * and node cuts one that does not once the connection has idled for the server's keepAliveTimeout.
 * Closing at once instead, with data still arriving, makes the kernel reset the connection, and the
 * client may lose the answer it was about to read.
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
