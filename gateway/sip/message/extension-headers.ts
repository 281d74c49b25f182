// Header fields of SIP extensions used by the UA: Session-Expires and Min-SE (RFC 4028 §4, §5),
// RSeq and RAck (RFC 3262 §7.1, §7.2), and option-tag lookups in Supported/Require (RFC 3261 §20.37, §20.32).
import { DIGIT, TOKEN } from './chars.js';
import { getHeaderValues } from './headers.js';
import { type Params, formatParams, scanParams } from './params.js';
import { Scanner } from './scanner.js';
import { parseBoundedInt } from './scalars.js';
import type { SipMessage } from './types.js';

type HasHeaders = Pick<SipMessage, 'headers'>;

/** RFC 3261 §25.1 delta-seconds = 1*DIGIT; values beyond 2**32-1 are rejected here (an interval that
 *  large is no interval any peer means). */
const MAX_DELTA = 2 ** 32 - 1;

export type Refresher = 'uac' | 'uas';

export interface SessionExpires {
  /** Session interval in seconds. */
  interval: number;
  refresher?: Refresher;
  /** Other se-params (generic-param), refresher excluded. */
  params: Params;
}

function scanDelta(sc: Scanner, what: string): number {
  sc.skipWs();
  return parseBoundedInt(sc.need(DIGIT, 'delta-seconds'), MAX_DELTA, what);
}

/** RFC 4028 §4: Session-Expires = ("Session-Expires" / "x") HCOLON delta-seconds *(SEMI se-params);
 *  se-params = refresher-param / generic-param; refresher-param = "refresher" EQUAL ("uas" / "uac"). */
export function parseSessionExpires(text: string): SessionExpires {
  const what = 'Bad Session-Expires';
  const sc = new Scanner(text, what);
  const interval = scanDelta(sc, what);
  const params = scanParams(sc);
  sc.end();
  const raw = params.refresher;
  delete params.refresher;
  if (raw === undefined) return { interval, params };
  const refresher = raw?.toLowerCase();
  if (refresher === 'uac' || refresher === 'uas') return { interval, refresher, params };
  return sc.fail('refresher must be uac or uas');
}

export function formatSessionExpires(se: Pick<SessionExpires, 'interval' | 'refresher'> & { params?: Params }): string {
  const refresher = se.refresher ? `;refresher=${se.refresher}` : '';
  return `${se.interval}${refresher}${formatParams(se.params ?? {})}`;
}

/** RFC 4028 §5: Min-SE = "Min-SE" HCOLON delta-seconds *(SEMI generic-param). Returns the seconds. */
export function parseMinSE(text: string): number {
  const what = 'Bad Min-SE';
  const sc = new Scanner(text, what);
  const value = scanDelta(sc, what);
  scanParams(sc);
  sc.end();
  return value;
}

/** RFC 3262 §7.1: RSeq = "RSeq" HCOLON response-num; response-num = 1*DIGIT. The first value is below
 *  2**31 (§3) and it grows by one per reliable 1xx, so a 32-bit bound is accepted. */
export function parseRSeq(text: string): number {
  const sc = new Scanner(text, 'Bad RSeq');
  sc.skipWs();
  const n = parseBoundedInt(sc.need(DIGIT, 'response-num'), MAX_DELTA, 'Bad RSeq');
  sc.end();
  return n;
}

export interface RAck {
  rseq: number;
  cseq: number;
  method: string;
}

/** RFC 3262 §7.2: RAck = "RAck" HCOLON response-num LWS CSeq-num LWS Method. */
export function parseRAck(text: string): RAck {
  const what = 'Bad RAck';
  const sc = new Scanner(text, what);
  sc.skipWs();
  const rseq = parseBoundedInt(sc.need(DIGIT, 'response-num'), MAX_DELTA, what);
  if (!sc.skipWs()) sc.fail('missing CSeq-num');
  // RFC 3261 §8.1.1.5: the CSeq number "MUST be less than 2**31".
  const cseq = parseBoundedInt(sc.need(DIGIT, 'CSeq-num'), 2 ** 31 - 1, what);
  if (!sc.skipWs()) sc.fail('missing method');
  const method = sc.need(TOKEN, 'method');
  sc.end();
  return { rseq, cseq, method };
}

export function formatRAck(rack: RAck): string {
  return `${rack.rseq} ${rack.cseq} ${rack.method}`;
}

/** Whether an option tag (RFC 3261 §19.2, e.g. "timer", "100rel") appears in a Supported / Require /
 *  Proxy-Require / Unsupported header. Compared case-insensitively, to be lenient in what we accept. */
export function hasOptionTag(
  msg: HasHeaders,
  header: 'Supported' | 'Require' | 'Proxy-Require' | 'Unsupported',
  tag: string,
): boolean {
  const want = tag.toLowerCase();
  return getHeaderValues(msg, header).some((v) => v.toLowerCase() === want);
}
