// What a CDR (and the "call ended" log line) says about how a call ended, from Call.endInfo: the SIP
// status, a reason text and who ended it.
import type { CallEndInfo } from '../call/call.js';
import type { CdrSide } from './types.js';

/** Q.850 cause 16's name: an answered call hung up by one of its parties. */
export const NORMAL_CLEARING = 'normal clearing';

export interface EndOutcome {
  status: number;
  reason: string;
  side: CdrSide;
}

/** The text="…" of an RFC 3326 Reason value (e.g. `SIP;cause=408;text="Media timeout"`), else the value. */
export function reasonText(value: string): string {
  const m = /;\s*text\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(value);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : value;
}

/** `by` when end() was told; else a Reason header means the gateway decided (media timeout, maximum
 *  duration), and what remains is the callee's doing (its BYE, its rejection, a failed answer). */
export function endOutcome(info: CallEndInfo | undefined, answered: boolean): EndOutcome {
  if (!info) return { status: answered ? 200 : 500, reason: 'unknown', side: 'gateway' };
  const side = info.by ?? (info.reason !== undefined ? 'gateway' : 'callee');
  const text = info.reason !== undefined ? reasonText(info.reason) : undefined;
  if (answered) return { status: 200, reason: text ?? NORMAL_CLEARING, side };
  return { status: info.final.status, reason: text ?? info.final.reason, side };
}
