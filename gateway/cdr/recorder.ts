// Follows every call (a CallObserver): its CDR row is written when the call starts, when it is answered
// and when it ends, and its end gets one info line in a fixed format:
//   call ended: caller=alice callee=+4930123456 duration=12.3 reason="normal clearing" status=200 side=caller direction=outbound trunk=carrier
// (caller/callee percent-encoded outside [A-Za-z0-9._~+@-]: they are the sender's text).
import sdpTransform from 'sdp-transform';
import type { Call } from '../call/call.js';
import type { CallObserver, CallStart } from '../call/observer.js';
import type { Logger } from '../log.js';
import { logSafe } from '../security/guard.js';
import { endOutcome } from './end-reason.js';
import type { CdrEnd, CdrStore } from './types.js';

export interface RecorderOptions {
  store: CdrStore;
  /** media.engine (a column of every row). */
  mediaEngine: string;
  logger: Logger;
  now?: () => number;
  /** The call's final quality per side at its end (call/quality.ts recordQualityNow); absent or undefined: null columns. */
  quality?: (call: Call) => CdrEnd['quality'] | undefined;
}

/** The first audio codec of an SDP (its first m=audio line's first payload), e.g. "PCMU". */
export function firstCodec(sdp: string | undefined): string | null {
  if (!sdp) return null;
  try {
    const audio = sdpTransform.parse(sdp).media?.find((m) => m.type === 'audio' && m.port !== 0);
    const pt = String(audio?.payloads ?? '').split(' ')[0];
    return audio?.rtp?.find((r) => String(r.payload) === pt)?.codec ?? null;
  } catch {
    return null;
  }
}

export class CdrRecorder implements CallObserver {
  private readonly now: () => number;

  constructor(private readonly o: RecorderOptions) {
    this.now = o.now ?? Date.now;
  }

  callStarted(call: Call, start: CallStart): void {
    const startTime = this.now();
    let answerTime: number | null = null;
    this.write('start', this.o.store.start({
      id: call.id, direction: start.direction, callerUser: start.callerUser ?? null, callerNumber: start.callerNumber,
      calleeUser: start.calleeUser ?? null, calleeNumber: start.calleeNumber, trunk: start.trunk ?? null, startTime, mediaEngine: this.o.mediaEngine,
    }));
    // A listener that throws would break the call's move: everything here is caught.
    call.onChange(({ to }) => {
      try {
        if (to === 'answered') {
          answerTime = this.now();
          // The callee side establishes the session right after the move (dial.ts, ring.ts).
          const at = answerTime;
          queueMicrotask(() => this.write('answer', this.o.store.answer(call.id, { answerTime: at, trunk: trunkOf(call), codec: codecOf(call) })));
        }
        if (to === 'ended') this.ended(call, start, startTime, answerTime);
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message, call: call.id }, 'cdr: call event failed');
      }
    });
  }

  private ended(call: Call, start: CallStart, startTime: number, answerTime: number | null): void {
    const endTime = this.now();
    const out = endOutcome(call.endInfo, answerTime !== null);
    const duration = answerTime === null ? 0 : Math.round((endTime - answerTime) / 100) / 10;
    const trunk = trunkOf(call) ?? start.trunk ?? null;
    const quality = this.qualityOf(call);
    this.write('end', this.o.store.end(call.id, { endTime, duration, status: out.status, reason: out.reason, endedBy: out.side, trunk, codec: codecOf(call), ...(quality && { quality }) }));
    const caller = logSafe(start.callerUser ?? start.callerNumber);
    const callee = logSafe(start.calleeNumber || start.calleeUser || '');
    const reason = out.reason.replace(/["\\\p{Cc}]/gu, "'").slice(0, 120);
    this.o.logger.info(
      { call: call.id, caller: start.callerUser ?? start.callerNumber, callee: start.calleeNumber, duration, reason: out.reason, status: out.status, side: out.side, direction: start.direction, trunk, setupMs: (answerTime ?? endTime) - startTime },
      `call ended: caller=${caller} callee=${callee} duration=${duration.toFixed(1)} reason="${reason}" status=${out.status} side=${out.side} direction=${start.direction} trunk=${trunk ?? '-'}`,
    );
  }

  /** Quality figures must never keep the end from being written. */
  private qualityOf(call: Call): CdrEnd['quality'] | undefined {
    try {
      return this.o.quality?.(call);
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message, call: call.id }, 'cdr: call quality not read');
      return undefined;
    }
  }

  private write(what: string, p: Promise<unknown>): void {
    p.catch((err: Error) => this.o.logger.error({ err: err.message }, `cdr: ${what} not written`));
  }
}

function trunkOf(call: Call): string | null {
  const p = call.parties.callee?.kind === 'trunk' ? call.parties.callee : call.parties.caller?.kind === 'trunk' ? call.parties.caller : undefined;
  return p?.kind === 'trunk' ? p.trunk.name : null;
}

/** The callee leg's codec (its answer, or its offer when we answered it), once the call is established. */
function codecOf(call: Call): string | null {
  return firstCodec(call.session?.callee.remoteSdp) ?? firstCodec(call.session?.caller.remoteSdp);
}
