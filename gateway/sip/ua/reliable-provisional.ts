// RFC 3262 reliable provisional responses (100rel / PRACK), both sides of one INVITE transaction.
// Pure: time comes from `now()`, randomness is injected; timers() says what is due when, the call layer
// owns the real timer and sends the messages. Text in "quotes" is RFC 3262's wording, checked against
// the RFC text as quoted by other implementations (the RFC itself could not be fetched here); the rest
// is paraphrased.
import { randomInt } from 'node:crypto';
import { formatRAck, hasOptionTag, parseRAck, parseRSeq } from '../message/extension-headers.js';
import { getHeader, getTo } from '../message/headers.js';
import { parseCSeq } from '../message/scalars.js';
import { type HeaderField, type SipRequest, type SipResponse, SipParseError } from '../message/types.js';
import { DEFAULT_TIMERS } from '../transaction/timers.js';

/** RFC 3262 §10: the option tag. */
export const RELIABLE_TAG = '100rel';
/** The 5xx we answer the INVITE with when a reliable 1xx was never PRACKed: RFC 3262 §3 only says "the
 *  UAS SHOULD reject the original request with a 5xx response"; 504 (Server Time-out) is our choice. */
export const PRACK_TIMEOUT_STATUS = 504;
/** RFC 3262 §3: the first RSeq "MUST be between 1 and 2**31 - 1. It is RECOMMENDED that it be chosen
 *  uniformly in this range." */
export const RSEQ_MAX_START = 2 ** 31 - 1;

/** Whether a request asks for (Require) or allows (Supported) reliable provisional responses. */
export function reliableMode(req: SipRequest): 'required' | 'supported' | 'none' {
  if (hasOptionTag(req, 'Require', RELIABLE_TAG)) return 'required';
  return hasOptionTag(req, 'Supported', RELIABLE_TAG) ? 'supported' : 'none';
}

export class ReliableProvisionalError extends Error {
  constructor(message: string) {
    super(`100rel: ${message}`);
    this.name = 'ReliableProvisionalError';
  }
}

interface Unacked {
  rseq: number;
  status: number;
  hasSdp: boolean;
  firstSentAt: number;
  nextAt: number;
  interval: number;
}

export type UasTimer =
  | { action: 'retransmit'; at: number; rseq: number }
  /** 64*T1 without PRACK: answer the INVITE with `status` (5xx). */
  | { action: 'give-up'; at: number; status: number };

export interface ReliableServerOptions {
  now: () => number;
  /** RFC 3261 T1, ms. */
  t1?: number;
  /** Send reliably also when the UAC only lists 100rel in Supported (our policy; default true). */
  whenSupported?: boolean;
  /** Random integer in [min, max] (inclusive); defaults to node:crypto randomInt. */
  randomInt?: (min: number, max: number) => number;
}

/** UAS side for one received INVITE. */
export class ReliableProvisionalServer {
  private readonly mode: 'required' | 'supported' | 'none';
  private readonly cseq: number;
  private readonly t1: number;
  private nextRSeq: number;
  private unacked: Unacked | undefined;
  private finished = false;

  constructor(
    invite: SipRequest,
    private readonly opts: ReliableServerOptions,
  ) {
    this.mode = reliableMode(invite);
    this.cseq = parseCSeq(getHeader(invite, 'CSeq') ?? '').seq;
    this.t1 = opts.t1 ?? DEFAULT_TIMERS.t1;
    const rand = opts.randomInt ?? ((min: number, max: number) => randomInt(min, max + 1));
    this.nextRSeq = rand(1, RSEQ_MAX_START);
  }

  /** Whether a provisional response with this status goes reliably. RFC 3262 §3: a UAS "MUST NOT attempt
   *  to send a 100 (Trying) response reliably"; with `Require: 100rel` every other 1xx is sent reliably
   *  (paraphrased); with `Supported: 100rel` it may be (our option `whenSupported`); never otherwise. */
  shouldSendReliably(status: number): boolean {
    if (status <= 100 || status >= 200 || this.finished) return false;
    return this.mode === 'required' || (this.mode === 'supported' && (this.opts.whenSupported ?? true));
  }

  /** RFC 3262 §3: "The UAS MUST NOT send a second reliable provisional response until the first is
   *  acknowledged.  After the first, it is RECOMMENDED that the UAS not send an additional reliable
   *  provisional response until the previous is acknowledged." We follow the RECOMMENDED rule for all. */
  canSendReliable(): boolean {
    return !this.finished && this.unacked === undefined;
  }

  /** Headers for the next reliable 1xx (§3: it "MUST contain a Require header field containing the option
   *  tag 100rel, and MUST include an RSeq header field"; each later one "MUST be larger by one"), and
   *  records it as sent now. Throws when one is still unacknowledged. */
  send(status: number, hasSdp: boolean): { rseq: number; headers: HeaderField[] } {
    if (!this.shouldSendReliably(status)) throw new ReliableProvisionalError(`${status} is not sent reliably`);
    if (!this.canSendReliable()) throw new ReliableProvisionalError('previous reliable 1xx not yet PRACKed');
    const rseq = this.nextRSeq++;
    const now = this.opts.now();
    this.unacked = { rseq, status, hasSdp, firstSentAt: now, nextAt: now + this.t1, interval: this.t1 };
    return { rseq, headers: [{ name: 'Require', value: RELIABLE_TAG }, { name: 'RSeq', value: String(rseq) }] };
  }

  /** The call layer re-sent the unacknowledged 1xx: §3, the interval "starts at T1 seconds and doubles
   *  for each retransmission". */
  onRetransmitted(): void {
    const u = this.unacked;
    if (u === undefined) return;
    u.interval *= 2;
    u.nextAt = this.opts.now() + u.interval;
  }

  /** §3: retransmit until PRACKed; "If a reliable provisional response is retransmitted for 64*T1 seconds
   *  without reception of a corresponding PRACK, the UAS SHOULD reject the original request with a 5xx". */
  timers(): UasTimer[] {
    const u = this.unacked;
    if (u === undefined || this.finished) return [];
    const giveUpAt = u.firstSentAt + 64 * this.t1;
    if (u.nextAt >= giveUpAt) return [{ action: 'give-up', at: giveUpAt, status: PRACK_TIMEOUT_STATUS }];
    return [{ action: 'retransmit', at: u.nextAt, rseq: u.rseq }];
  }

  /** A PRACK on the dialog. §3: a matching PRACK (RAck response-num = RSeq, CSeq number and method = the
   *  1xx's CSeq) gets 2xx and stops the retransmissions; "If a PRACK request is received by the UA core
   *  that does not match any unacknowledged reliable provisional response, the UAS MUST respond to the
   *  PRACK with a 481 response." A PRACK without a valid RAck is a 400. */
  onPrack(prack: SipRequest): { status: 200 | 481 | 400; acknowledged?: { rseq: number; status: number; hasSdp: boolean } } {
    const raw = getHeader(prack, 'RAck');
    if (raw === undefined) return { status: 400 };
    let rack;
    try {
      rack = parseRAck(raw);
    } catch (e) {
      if (e instanceof SipParseError) return { status: 400 };
      throw e;
    }
    const u = this.unacked;
    if (u === undefined || rack.rseq !== u.rseq || rack.cseq !== this.cseq || rack.method !== 'INVITE') return { status: 481 };
    this.unacked = undefined;
    return { status: 200, acknowledged: { rseq: u.rseq, status: u.status, hasSdp: u.hasSdp } };
  }

  /** §3: a final response may go before all PRACKs arrive "unless the final response is 2xx and any of the
   *  unacknowledged reliable provisional responses contained a session description. In that case, it
   *  MUST NOT send a final response until those provisional responses are acknowledged." */
  canSendFinal(status: number): boolean {
    return !(status >= 200 && status < 300 && this.unacked?.hasSdp === true);
  }

  /** The final response went out: no more reliable 1xx and no more retransmissions. */
  onFinalSent(): void {
    this.finished = true;
    this.unacked = undefined;
  }
}

/** RFC 3262 §4: a 1xx is reliable when it has `Require: 100rel`; "If the response is a 100 (Trying) (as
 *  opposed to 101 to 199), this option tag MUST be ignored". Returns its RSeq, or undefined when the
 *  response is not reliable. A reliable 1xx without a valid RSeq is malformed: SipParseError. */
export function reliableRSeq(res: SipResponse): number | undefined {
  if (res.status <= 100 || res.status >= 200 || !hasOptionTag(res, 'Require', RELIABLE_TAG)) return undefined;
  const raw = getHeader(res, 'RSeq');
  if (raw === undefined) throw new SipParseError('Bad reliable provisional response: missing RSeq');
  return parseRSeq(raw);
}

export type UacVerdict =
  /** Process the 1xx and send PRACK with these headers (RAck, §7.2). */
  | { kind: 'prack'; rseq: number; headers: HeaderField[] }
  /** Not a reliable 1xx: process it as usual, no PRACK. */
  | { kind: 'unreliable' }
  /** A retransmission of one already PRACKed, or out of order: neither PRACK nor process (§4). */
  | { kind: 'discard'; why: 'retransmission' | 'out-of-order' };

/** UAC side for one INVITE we sent. The RSeq space is per transaction and, with forking, per dialog
 *  (To tag): each early dialog keeps its own last RSeq. */
export class ReliableProvisionalClient {
  private readonly lastRSeq = new Map<string, number>();

  /** RFC 3262 §4: "The UAC MUST maintain a sequence number that indicates the most recently received
   *  in-order reliable provisional response for the initial request." and "if the UAC receives another
   *  reliable provisional response to the same request, and its RSeq value is not one higher than the
   *  value of the sequence number, that response MUST NOT be acknowledged with a PRACK, and MUST NOT be
   *  processed further by the UAC." The RAck "contains two numbers and a method tag. The first number is
   *  the value from the RSeq header in the provisional response that is being acknowledged. The next
   *  number, and the method, are copied from the CSeq in the response being acknowledged." */
  onProvisional(res: SipResponse): UacVerdict {
    const rseq = reliableRSeq(res);
    if (rseq === undefined) return { kind: 'unreliable' };
    const dialog = getTo(res).params.tag ?? '';
    const last = this.lastRSeq.get(dialog);
    if (last !== undefined && rseq !== last + 1) {
      return { kind: 'discard', why: rseq <= last ? 'retransmission' : 'out-of-order' };
    }
    this.lastRSeq.set(dialog, rseq);
    const cseq = parseCSeq(getHeader(res, 'CSeq') ?? '');
    const rack = formatRAck({ rseq, cseq: cseq.seq, method: cseq.method });
    return { kind: 'prack', rseq, headers: [{ name: 'RAck', value: rack }] };
  }
}
