// Message framing on stream transports (TCP/TLS), RFC 3261 §18.3: "In the case of stream-oriented
// transports such as TCP, the Content-Length header field indicates the size of the body … MUST be used
// with stream oriented transports."
import { findHeaderEnd, skipLeadingCrlf, splitHeaderSection } from './header-section.js';
import { MAX_BODY, parseContentLength } from './scalars.js';
import { SipParseError } from './types.js';

export const MAX_HEADER_BYTES = 64 * 1024;

/** Thrown by StreamFramer; `frames` holds the complete messages found in the same push before the
 *  fault. After it the stream is unusable (the connection should be closed). */
export class FramingError extends SipParseError {
  constructor(
    reason: string,
    readonly frames: Buffer[],
    partial?: SipParseError['partial'],
  ) {
    super(reason, partial);
    this.name = 'FramingError';
  }
}

export type FramerState = 'awaiting-headers' | 'awaiting-body' | 'failed';

const EDGES: Record<FramerState, readonly FramerState[]> = {
  'awaiting-headers': ['awaiting-headers', 'awaiting-body', 'failed'],
  'awaiting-body': ['awaiting-headers', 'awaiting-body', 'failed'],
  failed: [],
};

/** Cut a byte stream into whole SIP messages. CRLF keep-alives between messages are dropped
 *  (RFC 5626 §3.5.1; RFC 3261 §7.5 "ignore any CRLF appearing before the start-line"). */
export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  private _state: FramerState = 'awaiting-headers';
  /** Total size (header section + body) of the message being waited for in 'awaiting-body'. */
  private need = 0;
  private failure: FramingError | undefined;

  get state(): FramerState {
    return this._state;
  }

  /** Bytes held for an incomplete message. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Feed bytes; returns the complete messages (each its own Buffer), in order. Throws FramingError for
   *  a missing/invalid Content-Length, a header section over 64 KiB or a body over 1 MiB. */
  push(chunk: Buffer): Buffer[] {
    if (this.failure) throw this.failure;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    try {
      for (let frame = this.next(); frame; frame = this.next()) frames.push(frame);
    } catch (e) {
      const err = e instanceof SipParseError ? e : new SipParseError(String(e));
      this.failure = new FramingError(err.reason, frames, err.partial);
      this.transition('failed');
      this.buf = Buffer.alloc(0);
      throw this.failure;
    }
    return frames;
  }

  private transition(to: FramerState): void {
    if (!EDGES[this._state].includes(to)) throw new Error(`StreamFramer: illegal transition ${this._state} -> ${to}`);
    this._state = to;
  }

  private next(): Buffer | undefined {
    if (this._state === 'awaiting-headers' && !this.measure()) return undefined;
    if (this.buf.length < this.need) return undefined;
    const frame = Buffer.from(this.buf.subarray(0, this.need));
    this.buf = this.buf.subarray(this.need);
    this.transition('awaiting-headers');
    return frame;
  }

  /** Find the next header section and its Content-Length; false while more bytes are needed. */
  private measure(): boolean {
    const start = skipLeadingCrlf(this.buf);
    if (start > 0) this.buf = this.buf.subarray(start);
    const found = findHeaderEnd(this.buf, 0);
    if (!found) {
      if (this.buf.length > MAX_HEADER_BYTES) throw new SipParseError('Header section larger than 64 KiB');
      return false;
    }
    if (found.bodyStart > MAX_HEADER_BYTES) throw new SipParseError('Header section larger than 64 KiB');
    const section = splitHeaderSection(this.buf.toString('utf8', 0, found.headerEnd));
    const partial = { ...section.start, headers: section.headers };
    const lengths = section.headers.filter((h) => h.name === 'Content-Length');
    const first = lengths[0];
    if (!first) throw new SipParseError('Missing Content-Length on a stream transport', partial);
    if (lengths.length > 1) throw new SipParseError('Duplicate Content-Length header', partial);
    let length: number;
    try {
      length = parseContentLength(first.value);
    } catch {
      const tooBig = /^[0-9]+$/.test(first.value) && Number(first.value) > MAX_BODY;
      throw new SipParseError(tooBig ? 'Body larger than 1 MiB' : `Bad Content-Length: '${first.value}'`, partial);
    }
    this.need = found.bodyStart + length;
    this.transition('awaiting-body');
    return true;
  }
}
