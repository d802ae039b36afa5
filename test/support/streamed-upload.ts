import { request, type ClientRequest } from 'node:http';

export interface UploadAnswer {
  status: number;
  text: string;
  /** The JSON body, when the answer is JSON. */
  body: { error?: string; message?: string; issues?: { field: string; message: string }[]; [key: string]: unknown } | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** Bytes of the body the client had handed to the connection when the answer came. */
  sentBytes: number;
}

export interface UploadOptions {
  headers?: Record<string, string>;
  /** Wait this long before each chunk after the first: a slow client. */
  pauseMs?: number;
  /**
   * Keep the body open after the last chunk instead of ending it. An answer can then only come from a
   * server that decided before the end of the body; otherwise the upload never finishes.
   */
  holdOpen?: boolean;
}

type Chunks = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/**
 * POSTs a body made chunk by chunk as the connection takes it (never built whole in memory), and stops
 * sending as soon as the server answers: what a client does when a server refuses an upload early.
 */
export function streamUpload(url: string, chunks: Chunks, options: UploadOptions = {}): Promise<UploadAnswer> {
  return new Promise((resolve, reject) => {
    let sentBytes = 0;
    let answered = false;
    const req = request(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked', ...options.headers } }, (res) => {
      answered = true;
      const sentWhenAnswered = sentBytes;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (piece: string) => (text += piece));
      res.on('end', () => {
        req.destroy();
        const json = String(res.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : undefined;
        resolve({ status: res.statusCode!, text, body: json, headers: res.headers, sentBytes: sentWhenAnswered });
      });
      res.on('error', reject);
    });
    // Once the server has answered, a write into the closing connection may fail; the answer is what counts.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    void (async () => {
      let first = true;
      for await (const chunk of chunks) {
        if (answered || req.destroyed) return;
        if (!first && options.pauseMs) await new Promise((wait) => setTimeout(wait, options.pauseMs));
        first = false;
        sentBytes += byteLength(chunk);
        if (!req.write(chunk)) await drainedOrClosed(req);
      }
      if (!options.holdOpen && !answered && !req.destroyed) req.end();
    })().catch(reject);
  });
}

export interface IgnoredAnswer {
  status: number;
  /** Whether the connection failed before the whole body was sent. */
  cut: boolean;
  /** Bytes handed to the connection after the answer had come. */
  sentAfterAnswer: number;
}

/**
 * A client that reads the answer's status but sends its whole body regardless, as a careless script
 * might: resolves when the body is sent or the connection fails.
 */
export function uploadIgnoringAnswer(url: string, chunks: Chunks, headers: Record<string, string>): Promise<IgnoredAnswer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let sentAfterAnswer = 0;
    let finished = false;
    const finish = (cut: boolean) => {
      if (finished) return;
      finished = true;
      if (!status) reject(new Error('the connection ended without an answer'));
      else resolve({ status, cut, sentAfterAnswer });
    };
    const req = request(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked', ...headers } }, (res) => {
      status = res.statusCode!;
      res.resume();
    });
    req.on('error', () => finish(true));
    req.on('close', () => finish(!req.writableFinished));
    void (async () => {
      for await (const chunk of chunks) {
        if (req.destroyed) return;
        if (status) sentAfterAnswer += byteLength(chunk);
        if (!req.write(chunk)) await drainedOrClosed(req);
      }
      if (!req.destroyed) req.end(() => req.destroy());
    })().catch(reject);
  });
}

function byteLength(chunk: string | Uint8Array): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
}

function drainedOrClosed(req: ClientRequest): Promise<void> {
  return new Promise((done) => {
    const finish = () => {
      req.off('drain', finish);
      req.off('close', finish);
      done();
    };
    req.on('drain', finish);
    req.on('close', finish);
  });
}
