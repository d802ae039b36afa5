import { TextDecoder } from 'node:util';
import { pipeline, Readable } from 'node:stream';
import { Tokenizer, TokenParser, TokenType, type ParsedTokenInfo } from '@streamparser/json';
import { CsvError, parse } from 'csv-parse';
import { describeBytes, type ImportLimits } from '../domain/import-limits.js';
import { AppError, invalid } from './errors.js';

/** An import's data as it arrives: a request body, a file or a form field, a chunk at a time. */
export interface ImportSource {
  format: 'csv' | 'json';
  chunks: AsyncIterable<Uint8Array | string>;
  /** A CSV's character set, as its Content-Type names it; UTF-8 when unnamed. JSON is UTF-8. */
  charset?: string;
}

/** One row as it stood in the file, named where a person looks for it ("line 4", "entry 2"). */
export type RawRow = { where: string; value: unknown } | { where: string; problem: string };

/**
 * The rows of an import, parsed as the bytes arrive. Throws 413 as soon as the body passes `maxBytes`
 * or one row passes `maxRowBytes`; counting rows against `maxRows` is the consumer's (it sees every row).
 */
export function rowsOf(source: ImportSource, limits: ImportLimits): AsyncGenerator<RawRow> {
  const bytes = cappedBytes(source.chunks, limits.maxBytes);
  return source.format === 'csv' ? csvRows(bytes, source.charset ?? 'utf-8', limits) : jsonRows(bytes, limits);
}

async function* cappedBytes(chunks: AsyncIterable<Uint8Array | string>, maxBytes: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += bytes.byteLength;
    if (total > maxBytes)
      throw new AppError(
        413,
        'too_large',
        `the import is larger than ${describeBytes(maxBytes)}, the limit for a list this size; nothing was imported`,
      );
    yield bytes;
  }
}

function rowTooLarge(where: string, limits: ImportLimits): AppError {
  return new AppError(
    413,
    'too_large',
    `${where} is larger than ${describeBytes(limits.maxRowBytes)}, the most one row may hold; nothing was imported`,
  );
}

/** Header names a spreadsheet may capitalise; every other column keeps its name as a merge field. */
const STANDARD_COLUMNS = new Set(['email', 'name']);

type CsvRecord = { record: Record<string, string>; info: { lines: number }; raw: string } | { skipped: CsvError };

async function* csvRows(bytes: AsyncIterable<Uint8Array>, charset: string, limits: ImportLimits): AsyncGenerator<RawRow> {
  const decoder = textDecoder(charset);
  const parser = parse({
    columns: (header: string[]) => header.map((h) => (STANDARD_COLUMNS.has(h.trim().toLowerCase()) ? h.trim().toLowerCase() : h.trim())),
    bom: true,
    skip_empty_lines: true,
    trim: true,
    info: true,
    raw: true,
    max_record_size: limits.maxRowBytes,
    record_delimiter: '\n',
    // A malformed record is a bad row like any other: named by its line, and the rest still checked.
    skip_records_with_error: true,
    on_skip: (error) => {
      if (error?.code === 'CSV_MAX_RECORD_SIZE') throw rowTooLarge(`line ${lineOf(error)}`, limits);
      if (error) parser.push({ skipped: error } satisfies CsvRecord);
      return undefined;
    },
  });
  const text = Readable.from(csvText(bytes, decoder), { objectMode: false });
  // Errors (the byte cap included) reach the loop below through the parser, which pipeline destroys with them.
  pipeline(text, parser, () => {});
  for await (const parsed of parser as AsyncIterable<CsvRecord>) {
    if ('skipped' in parsed) {
      yield { where: `line ${lineOf(parsed.skipped)}`, problem: parsed.skipped.message };
      continue;
    }
    const { record, info, raw } = parsed;
    const { email, name, ...fields } = record;
    const nonEmpty = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ''));
    // csv-parse reports the line a record ends on; a person looks for the line it starts on.
    const spans = (raw.replace(/^\n+/, '').replace(/\n$/, '').match(/\n/g) ?? []).length;
    yield { where: `line ${info.lines - spans}`, value: { email: email ?? '', name: name ?? '', fields: nonEmpty } };
  }
}

function lineOf(error: CsvError): number {
  return Number((error as CsvError & { lines?: number }).lines ?? 0);
}

function textDecoder(charset: string): TextDecoder {
  try {
    return new TextDecoder(charset);
  } catch {
    throw invalid([{ field: 'charset', message: `the character set "${charset}" is not supported; send UTF-8` }]);
  }
}

/** Decoded text with every line ending as LF: csv-parse counts CR and LF inside a quoted cell as two lines. */
async function* csvText(bytes: AsyncIterable<Uint8Array>, decoder: TextDecoder): AsyncGenerator<string> {
  let endedOnCr = false;
  const normalise = (text: string) => {
    if (text === '') return text;
    const rest = endedOnCr && text.startsWith('\n') ? text.slice(1) : text;
    endedOnCr = text.endsWith('\r');
    return rest.replace(/\r\n?/g, '\n');
  };
  for await (const chunk of bytes) yield normalise(decoder.decode(chunk, { stream: true }));
  yield normalise(decoder.decode());
}

const notAList = () => invalid([{ field: 'members', message: 'expected an array of members, or an object whose "members" is one' }]);

/**
 * Entries of a JSON array, or of the `members` array of a JSON object, each parsed as soon as it is
 * complete and then dropped by the parser: only the entry being read is held.
 */
async function* jsonRows(bytes: AsyncIterable<Uint8Array>, limits: ImportLimits): AsyncGenerator<RawRow> {
  const tokenizer = new Tokenizer();
  let parser: TokenParser | undefined;
  let shape: 'array' | 'object' | undefined;
  const arrived: RawRow[] = [];
  let entries = 0;
  let read = 0;
  let latestToken = 0;
  let entryEnded = 0;
  // For an object: whether its "members" key has been seen, and the two tokens before this one, to find it.
  let foundMembers = false;
  let depth = 0;
  const recent: ParsedTokenInfo[] = [];

  tokenizer.onToken = (token) => {
    latestToken = token.offset;
    if (!parser) {
      if (token.token !== TokenType.LEFT_BRACKET && token.token !== TokenType.LEFT_BRACE) throw notAList();
      shape = token.token === TokenType.LEFT_BRACKET ? 'array' : 'object';
      parser = new TokenParser({ paths: [shape === 'array' ? '$.*' : '$.members.*'], keepStack: false });
      parser.onValue = ({ value }) => {
        entries += 1;
        // Measured from the end of the entry before: one that arrived within a single chunk is caught here.
        if (latestToken - entryEnded > limits.maxRowBytes) throw rowTooLarge(`entry ${entries}`, limits);
        arrived.push({ where: `entry ${entries}`, value });
        entryEnded = latestToken;
      };
    }
    const [keyToken, colon] = recent;
    if (depth === 1 && keyToken?.token === TokenType.STRING && keyToken.value === 'members' && colon?.token === TokenType.COLON) {
      if (token.token !== TokenType.LEFT_BRACKET) throw notAList();
      foundMembers = true;
    }
    if (token.token === TokenType.LEFT_BRACE || token.token === TokenType.LEFT_BRACKET) depth += 1;
    if (token.token === TokenType.RIGHT_BRACE || token.token === TokenType.RIGHT_BRACKET) depth -= 1;
    recent.push(token);
    if (recent.length > 2) recent.shift();
    parser.write(token);
  };

  const parseFailure = (error: unknown): never => {
    if (error instanceof AppError) throw error;
    throw new AppError(400, 'malformed_json', 'the request body is not valid JSON', [
      { field: '(body)', message: (error as Error).message },
    ]);
  };
  for await (const chunk of bytes) {
    try {
      tokenizer.write(chunk);
    } catch (error) {
      parseFailure(error);
    }
    read += chunk.byteLength;
    yield* arrived.splice(0);
    // One still arriving is caught a chunk later at most.
    if (read - entryEnded > limits.maxRowBytes) throw rowTooLarge(`entry ${entries + 1}`, limits);
  }
  try {
    tokenizer.end();
    if (parser && !parser.isEnded) parser.end();
  } catch (error) {
    parseFailure(error);
  }
  yield* arrived.splice(0);
  if (!shape || (shape === 'object' && !foundMembers)) throw notAList();
}
