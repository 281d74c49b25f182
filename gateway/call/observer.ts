// Observers of calls (gateway/cdr, gateway/metrics): told once when a call is created, with who is on each
// side as the call layer knows it then; they follow it through Call.onChange (answered, ended) and read
// Call.endInfo on 'ended'. An observer never changes the call; one that throws is logged and ignored.
import type { Logger } from '../log.js';
import type { Call } from './call.js';

/** outbound: a user to a trunk, their PBX or the echo line · inbound: a trunk or PBX to a user ·
 *  internal: a user to a user. */
export type CallDirection = 'outbound' | 'inbound' | 'internal';

export interface CallStart {
  direction: CallDirection;
  /** The calling user (outbound, internal). */
  callerUser?: string;
  /** The caller's number or name as the INVITE's From URI gives it. */
  callerNumber: string;
  /** The called user (inbound, internal). */
  calleeUser?: string;
  /** The dialled number (outbound: after the route's rewrite where known; inbound: the Request-URI's). */
  calleeNumber: string;
  /** The trunk the call goes to or came from (the first planned one; the answering one is in
   *  call.parties.callee once known). */
  trunk?: string;
}

export interface CallObserver {
  callStarted(call: Call, start: CallStart): void;
}

/** Tells every observer of a new call; an observer's error never reaches the call. */
export function announceCall(observers: readonly CallObserver[], call: Call, start: CallStart, logger: Logger): void {
  for (const o of observers) {
    try {
      o.callStarted(call, start);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'call observer failed');
    }
  }
}
