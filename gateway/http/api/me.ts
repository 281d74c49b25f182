// GET /api/me/calls: the signed-in user's own calls in progress, each with the gateway's own figures for
// both sides (issue 10 item 3: the page shows them beside the browser's getStats figures, so a person can
// tell whether a bad call is their connection or the far party's). The page signs in as the user does at
// GET /api/ice-servers — Basic with the user's password or a device token (../ice-servers.ts basicSignIn,
// the same lockout-counted check) — never with the operator token. A user sees only the sides of calls
// where they are the party: their own leg's SIP Call-ID (the page finds its sip.js session by it), never
// the other leg's, no trunk name or tag. Figures: call/quality.ts (RTCP and the gateway's own count).
import type { Request, RequestHandler, Response } from 'express';
import type { Call, CallSide } from '../../call/call.js';
import { callQuality, type LegQuality } from '../../call/quality.js';
import type { GatewayConfig } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { DirectionQuality } from '../../media/quality.js';
import type { MediaEngine } from '../../media/types.js';
import { getCallId } from '../../sip/message/index.js';
import { accountOf } from '../../sip/ua/credentials.js';
import { basicSignIn, refuseSignIn } from '../ice-servers.js';
import type { BookedCall } from './book.js';

export interface MyCallsDeps {
  config: GatewayConfig;
  logger: Logger;
  /** The lockout-wrapped password check GET /api/ice-servers uses (absent: nobody signs in: 401). */
  checkPassword?: (user: string, password: string, source: string) => boolean;
  calls(): BookedCall[];
  media(): MediaEngine | undefined;
  now(): number;
}

/** One direction as the page shows it (null: not known yet). */
export interface DirectionFigures {
  packets: number;
  lost: number | null;
  lossPercent: number | null;
  /** Loss in the latest RTCP interval. */
  intervalLossPercent: number | null;
  jitterMs: number | null;
  mos: number | null;
}

/** One side of the call: `in` what the gateway received from that party, `out` what that party says (its
 *  RTCP receiver reports) it received from the gateway; `rttMs` the round trip gateway ⇄ that party. */
export interface SideFigures {
  in: DirectionFigures;
  out: DirectionFigures;
  rttMs: number | null;
  codec?: string;
}

export interface MyCall {
  /** The SIP Call-ID of the user's own leg (absent while it is not known: an incoming call still ringing). */
  callId?: string;
  side: CallSide;
  state: string;
  direction: string;
  /** The other party's number (or user name) as this call's INVITE gave it. */
  peer: string;
  answeredAt?: string;
  durationSeconds: number;
  /** Once answered, where the media engine reports it: `you` the user's leg, `far` the other party's. */
  quality?: { source: string; you?: SideFigures; far?: SideFigures };
}

function direction(d: DirectionQuality): DirectionFigures {
  return { packets: d.packets, lost: d.lost, lossPercent: d.lossPercent, intervalLossPercent: d.intervalLossPercent, jitterMs: d.jitterMs, mos: d.mos };
}

export function sideFigures(leg: LegQuality | undefined): SideFigures | undefined {
  if (!leg) return undefined;
  return { in: direction(leg.in), out: direction(leg.out), rttMs: leg.rttMs, ...(leg.codec !== undefined && { codec: leg.codec }) };
}

/** The sides of `call` the account is the party of (both for a call to oneself). */
export function sidesOf(call: Call, account: string): CallSide[] {
  return (['caller', 'callee'] as const).filter((side) => {
    const p = call.parties[side];
    return p?.kind === 'user' && p.user.name === account;
  });
}

/** The Call-ID of `side`'s own dialog: the answered session's, else (the caller) its INVITE's. */
function legCallId(call: Call, side: CallSide): string | undefined {
  const leg = call.session?.[side];
  if (leg) return leg.callId;
  return side === 'caller' ? getCallId(call.caller.invite) : undefined;
}

async function myCall(b: BookedCall, side: CallSide, engine: MediaEngine | undefined, now: number): Promise<MyCall> {
  const { call, start } = b;
  const far: CallSide = side === 'caller' ? 'callee' : 'caller';
  const callId = legCallId(call, side);
  const q = engine && call.session ? await callQuality(call, engine).catch(() => undefined) : undefined;
  const [you, them] = [sideFigures(q?.[side]), sideFigures(q?.[far])];
  return {
    ...(callId !== undefined && { callId }),
    side,
    state: call.state,
    direction: start.direction,
    peer: side === 'caller' ? start.calleeNumber : start.callerNumber,
    ...(b.answeredAt !== undefined && { answeredAt: new Date(b.answeredAt).toISOString() }),
    durationSeconds: b.answeredAt === undefined ? 0 : Math.max(0, Math.round((now - b.answeredAt) / 1000)),
    ...(q && { quality: { source: q.source, ...(you && { you }), ...(them && { far: them }) } }),
  };
}

/** The signed-in account's calls, oldest first. */
export async function callsOf(account: string, d: Pick<MyCallsDeps, 'calls' | 'media' | 'now'>): Promise<MyCall[]> {
  const engine = d.media();
  const out: MyCall[] = [];
  for (const b of d.calls()) {
    if (b.call.state === 'ended') continue;
    for (const side of sidesOf(b.call, account)) out.push(await myCall(b, side, engine, d.now()));
  }
  return out;
}

export function myCallsHandler(d: MyCallsDeps): RequestHandler {
  return (req: Request, res: Response, next) => {
    // The answer names the user's calls: no cache may keep it (RFC 9111 §5.2.2.5).
    res.set('Cache-Control', 'no-store');
    const who = d.checkPassword ? basicSignIn(req, d.checkPassword) : { ok: false };
    // A device token acts for the account it was issued to (sip/ua/credentials.ts accountOf).
    const account = who.ok && who.user !== undefined ? accountOf(d.config, who.user) : undefined;
    if (account === undefined) return refuseSignIn(req, res, d.logger, 'me/calls', who.user);
    callsOf(account, d).then((calls) => void res.json(calls), next);
  };
}
