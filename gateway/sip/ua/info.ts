// SIP INFO carrying DTMF (RFC 6086 INFO method; the legacy `application/dtmf-relay` and `application/dtmf`
// bodies that SIP phones, PBXs and JsSIP send, which no RFC defines). Protocol only: what a body says,
// how ours is written, and which INFO requests we take (the call layer decides where a digit goes).
import { getHeader } from '../message/index.js';
import type { SipRequest } from '../message/types.js';

/** The body types we read and write. */
export const DTMF_RELAY = 'application/dtmf-relay';
export const DTMF_PLAIN = 'application/dtmf';
export const DTMF_INFO_TYPES: readonly string[] = [DTMF_RELAY, DTMF_PLAIN];

/** The signals a DTMF INFO may carry: digits, *, #, A-D, and 16 (hook flash, RFC 4733 event 16). */
const SIGNAL = /^(?:[0-9*#A-D]|16)$/;
/** Duration when a body names none (application/dtmf has no field for it): 250 ms (Asterisk's default). */
export const DEFAULT_DURATION_MS = 250;
/** Bounds we accept and send: RFC 4733 §2.3.5 duration is 16 bits of 8 kHz ticks (8191 ms). */
export const MIN_DURATION_MS = 40;
export const MAX_DURATION_MS = 8000;

export interface DtmfDigit {
  /** '0'-'9', '*', '#', 'A'-'D', or '16' (flash). */
  signal: string;
  durationMs: number;
}

export class InfoBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InfoBodyError';
  }
}

function clampDuration(ms: number): number {
  return Math.min(MAX_DURATION_MS, Math.max(MIN_DURATION_MS, Math.round(ms)));
}

function signalOf(raw: string): string {
  const s = raw.trim().toUpperCase();
  if (!SIGNAL.test(s)) throw new InfoBodyError(`not a DTMF signal: ${JSON.stringify(raw.slice(0, 16))}`);
  return s;
}

/** `application/dtmf-relay`: "Signal=5\r\nDuration=160\r\n" — name=value lines (CRLF or LF), names
 *  case-insensitive, spaces around '=' tolerated, other lines ignored; Signal required, Duration in ms. */
function parseRelay(text: string): DtmfDigit {
  let signal: string | undefined;
  let duration: number | undefined;
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq < 0) {
      if (line.trim() !== '') throw new InfoBodyError(`dtmf-relay line without '=': ${JSON.stringify(line.slice(0, 32))}`);
      continue;
    }
    const name = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (name === 'signal') signal = signalOf(value);
    else if (name === 'duration') {
      if (!/^\d{1,6}$/.test(value)) throw new InfoBodyError(`dtmf-relay Duration is not a number: ${JSON.stringify(value.slice(0, 16))}`);
      duration = Number(value);
    }
  }
  if (signal === undefined) throw new InfoBodyError('dtmf-relay body without Signal');
  return { signal, durationMs: clampDuration(duration ?? DEFAULT_DURATION_MS) };
}

/** Parses a DTMF INFO body of `contentType` (DTMF_RELAY or DTMF_PLAIN); throws InfoBodyError. */
export function parseDtmfInfo(contentType: string, body: Buffer | string): DtmfDigit {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.length > 512) throw new InfoBodyError('DTMF INFO body too long');
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === DTMF_RELAY) return parseRelay(text);
  // application/dtmf: the signal alone (some send "5\r\n")
  if (type === DTMF_PLAIN) return { signal: signalOf(text), durationMs: DEFAULT_DURATION_MS };
  throw new InfoBodyError(`not a DTMF body type: ${type}`);
}

/** Our `application/dtmf-relay` body (what Asterisk and Cisco send): "Signal=5\r\nDuration=160\r\n". */
export function serializeDtmfRelay(d: DtmfDigit): string {
  return `Signal=${signalOf(d.signal)}\r\nDuration=${clampDuration(d.durationMs)}\r\n`;
}

/** What an INFO request in a dialog gets before its body is looked at. */
export type InfoVerdict =
  | { kind: 'dtmf'; contentType: string }
  | { kind: 'empty' }
  | { kind: 'reject'; status: number; reason: string; headers: { name: string; value: string }[] };

/** RFC 6086 §4.2.2 for the INFO requests we take. We announce no Recv-Info (we take no Info Package), so
 *  "If a UA receives an INFO request associated with an Info Package that the UA has not indicated
 *  willingness to receive, the UA MUST send a 469 (Bad Info Package) response". A legacy INFO without
 *  Info-Package (RFC 2976 usage, what phones and PBXs send for DTMF) is taken when its body is a DTMF type,
 *  like Asterisk; "If the UA receives an INFO request with a message body type it does not understand, the
 *  UA MUST send a 415 (Unsupported Media Type) response" (with Accept, RFC 3261 §21.4.13). An INFO without
 *  a body is answered 200 (RFC 6086 §4.2.2: the UAS does not process it further). */
export function classifyInfo(req: SipRequest): InfoVerdict {
  if (getHeader(req, 'Info-Package') !== undefined) {
    return { kind: 'reject', status: 469, reason: 'Bad Info Package', headers: [{ name: 'Recv-Info', value: '' }] };
  }
  if (req.body.length === 0) return { kind: 'empty' };
  const type = (getHeader(req, 'Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!DTMF_INFO_TYPES.includes(type)) {
    return { kind: 'reject', status: 415, reason: 'Unsupported Media Type', headers: [{ name: 'Accept', value: DTMF_INFO_TYPES.join(', ') }] };
  }
  return { kind: 'dtmf', contentType: type };
}

/** Answers an INFO in a dialog (RFC 6086 §4.2.2): 469/415 per classifyInfo, 400 for a DTMF body we cannot
 *  read, else 200 — and a DTMF digit goes to `onDtmf` (the call decides where it goes). 200 is "the INFO
 *  was received", not "the digit was delivered" (§4.2.2: the response says nothing of the payload's fate). */
export function answerInfo(req: SipRequest, reply: (status: number, reason: string, headers?: { name: string; value: string }[]) => void, onDtmf: (digit: DtmfDigit) => void): void {
  const verdict = classifyInfo(req);
  if (verdict.kind === 'reject') return reply(verdict.status, verdict.reason, verdict.headers);
  if (verdict.kind === 'empty') return reply(200, 'OK');
  let digit: DtmfDigit;
  try {
    digit = parseDtmfInfo(verdict.contentType, req.body);
  } catch (err) {
    if (!(err instanceof InfoBodyError)) throw err;
    return reply(400, `Bad Request: ${err.message}`.slice(0, 100));
  }
  reply(200, 'OK');
  onDtmf(digit);
}
