import { AppError } from '../services/errors.js';

const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PLUS = 0x2b;
const PERCENT = 0x25;
const SPACE = 0x20;

/** What the form's other fields may add up to: a CSRF token and a button's value. */
const OTHER_FIELDS_MAX_BYTES = 4096;

/**
 * An `application/x-www-form-urlencoded` body read as it arrives. One field (a pasted or chosen file) is
 * handed on decoded, a piece at a time, and never held whole here; the other fields are small and kept.
 */
export class StreamedForm {
  readonly fields: Record<string, string> = {};
  /** Whether the body was read to its end. */
  complete = false;

  private name = '';
  private value = '';
  private inValue = false;
  private streaming = false;
  private otherBytes = 0;
  private pending: Uint8Array = new Uint8Array(0);
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly chunks: AsyncIterable<Uint8Array>,
    private readonly streamedField: string,
  ) {}

  /** The streamed field's value, decoded. Once it ends, `fields` holds the others and `complete` is set. */
  async *streamedValue(): AsyncGenerator<string> {
    for await (const chunk of this.chunks) {
      for (const piece of this.consume(chunk)) if (piece) yield piece;
    }
    const last = this.endField();
    if (last) yield last;
    this.complete = true;
  }

  private *consume(chunk: Uint8Array): Generator<string> {
    let at = 0;
    while (at < chunk.length) {
      const ampersand = chunk.indexOf(AMPERSAND, at);
      const end = ampersand === -1 ? chunk.length : ampersand;
      if (!this.inValue) {
        const equals = chunk.subarray(at, end).indexOf(EQUALS);
        const nameEnd = equals === -1 ? end : at + equals;
        this.name += this.other(chunk.subarray(at, nameEnd));
        at = nameEnd;
        if (equals !== -1) {
          at += 1;
          this.inValue = true;
          this.streaming = decodeComponent(this.name) === this.streamedField;
        }
      }
      if (this.inValue) {
        const raw = chunk.subarray(at, end);
        if (this.streaming) yield this.decodeStreamed(raw);
        else this.value += this.other(raw);
      }
      at = end;
      if (ampersand !== -1) {
        yield this.endField();
        at += 1;
      }
    }
  }

  private endField(): string {
    const name = decodeComponent(this.name);
    const tail = this.streaming ? this.decodeStreamed(new Uint8Array(0), true) : '';
    if (name && !this.streaming) this.fields[name] = decodeComponent(this.value);
    this.name = '';
    this.value = '';
    this.inValue = false;
    this.streaming = false;
    return tail;
  }

  private other(raw: Uint8Array): string {
    this.otherBytes += raw.length;
    if (this.otherBytes > OTHER_FIELDS_MAX_BYTES) {
      throw new AppError(
        413,
        'too_large',
        `the form's fields besides ${this.streamedField} are larger than ${OTHER_FIELDS_MAX_BYTES} bytes`,
      );
    }
    return Buffer.from(raw).toString('latin1');
  }

  /** Percent-decodes as the bytes come; an escape cut by a chunk boundary waits for the rest. */
  private decodeStreamed(raw: Uint8Array, last = false): string {
    const input = this.pending.length ? Buffer.concat([this.pending, raw]) : raw;
    const output = new Uint8Array(input.length);
    let written = 0;
    let at = 0;
    for (; at < input.length; at++) {
      const byte = input[at]!;
      if (byte === PLUS) output[written++] = SPACE;
      else if (byte !== PERCENT) output[written++] = byte;
      else if (at + 2 >= input.length && !last) break;
      else {
        const decoded = Number.parseInt(String.fromCharCode(input[at + 1] ?? 0, input[at + 2] ?? 0), 16);
        if (Number.isNaN(decoded) || !isHex(input[at + 1]) || !isHex(input[at + 2])) output[written++] = byte;
        else {
          output[written++] = decoded;
          at += 2;
        }
      }
    }
    this.pending = input.slice(at);
    return this.decoder.decode(output.subarray(0, written), { stream: !last });
  }
}

function isHex(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));
}

function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}
