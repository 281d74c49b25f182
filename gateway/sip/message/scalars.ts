// Single-valued scalar header fields: CSeq, Call-ID, Max-Forwards, Content-Length, Expires, Date.
import { DIGIT, TOKEN, WORD, allIn } from './chars.js';
import { Scanner } from './scanner.js';
import { SipParseError, type CSeq } from './types.js';

/** RFC 3261 §8.1.1.5: CSeq = 1*DIGIT LWS Method; "The sequence number value MUST be expressible as a
 *  32-bit unsigned integer and MUST be less than 2**31." */
export function parseCSeq(text: string, what = 'Bad CSeq'): CSeq {
  const sc = new Scanner(text, what);
  sc.skipWs();
  const digits = sc.need(DIGIT, 'sequence number');
  const seq = Number(digits);
  if (!(seq < 2 ** 31)) sc.fail('sequence number out of range');
  if (!sc.skipWs()) sc.fail('missing method');
  const method = sc.need(TOKEN, 'method');
  sc.end();
  return { seq, method };
}

export function formatCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}

/** RFC 3261 §25.1: callid = word [ "@" word ] */
export function parseCallId(text: string): string {
  const at = text.indexOf('@');
  const ok = at < 0 ? text.length > 0 && allIn(WORD, text) : isWord(text.slice(0, at)) && isWord(text.slice(at + 1));
  if (!ok) throw new SipParseError('Bad Call-ID');
  return text;
}

function isWord(s: string): boolean {
  return s.length > 0 && allIn(WORD, s);
}

/** 1*DIGIT with an upper bound; leading zeros allowed ("0068" is 68, RFC 4475 §3.1.1.1). */
export function parseBoundedInt(text: string, max: number, what: string): number {
  if (text.length === 0 || !allIn(DIGIT, text)) throw new SipParseError(`${what}: not a number`);
  const n = Number(text);
  if (!(n <= max)) throw new SipParseError(`${what}: out of range`);
  return n;
}

/** RFC 3261 §20.22: Max-Forwards = 1*DIGIT, "an integer in the range 0-255". */
export function parseMaxForwards(text: string): number {
  return parseBoundedInt(text, 255, 'Bad Max-Forwards');
}

/** RFC 3261 §20.14: Content-Length = 1*DIGIT (octets). The 1 MiB cap matches the stream framer's. */
export function parseContentLength(text: string): number {
  return parseBoundedInt(text, MAX_BODY, 'Bad Content-Length');
}

export const MAX_BODY = 1024 * 1024;

/** RFC 3261 §20.19: Expires = delta-seconds (1*DIGIT). Values beyond 2**32-1 are clamped to it
 *  (RFC 3261 §25.1 delta-seconds; RFC 4475 §3.1.2.4 shows such values). */
export function parseExpires(text: string): number {
  if (text.length === 0 || !allIn(DIGIT, text)) throw new SipParseError('Bad Expires: not a number');
  return Math.min(Number(text), 2 ** 32 - 1);
}

const DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** RFC 3261 §20.17: Date = rfc1123-date; "SIP only supports GMT" (RFC 4475 §3.1.2.12 rejects EST). */
export function checkDate(text: string): void {
  if (!DATE.test(text)) throw new SipParseError('Bad Date: not an RFC 1123 GMT date');
}
