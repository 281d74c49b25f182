// A refused call: the final response (RFC 3398 §7.2.4 maps ISDN cause 17 "user busy" to 486, cause 34
// "no circuit/channel available" to 503; a dial rule is 403 Forbidden) with a reason phrase naming the
// rule, and the warn line an operator greps for:
//   call refused: user=alice number=+882123 class=premium rule=classes status=403
//   call refused: user=alice number=5551234 class=local rule=trunks.maxCalls trunk=carrier status=503
import { OTHER_CLASS } from '../config/dial-rules.js';

/** The rule that refused: the config key it comes from. */
export type Rule = 'classes' | 'maxCalls' | 'callsPerHour' | 'trunks.maxCalls' | 'trunks.callsPerHour';

export interface Refusal {
  ok: false;
  status: number;
  reason: string;
  rule: Rule;
  class: string;
}

export type RefusalCounters = Record<Rule, number>;

export const refusals = (): RefusalCounters => ({ classes: 0, maxCalls: 0, callsPerHour: 0, 'trunks.maxCalls': 0, 'trunks.callsPerHour': 0 });

function answer(rule: Rule, cls: string, limit: number | undefined): { status: number; reason: string } {
  switch (rule) {
    case 'classes':
      return { status: 403, reason: cls === OTHER_CLASS ? 'Forbidden: number in no allowed dial class' : `Forbidden: ${cls} numbers not allowed` };
    case 'maxCalls':
      return { status: 486, reason: `Busy Here: limit of ${limit} concurrent calls reached` };
    case 'callsPerHour':
      return { status: 403, reason: `Forbidden: limit of ${limit} calls per hour reached` };
    case 'trunks.maxCalls':
      return { status: 503, reason: 'Service Unavailable: trunk call limit reached' };
    case 'trunks.callsPerHour':
      return { status: 403, reason: 'Forbidden: trunk calls per hour limit reached' };
  }
}

export function refusalLine(
  rule: Rule,
  f: { user: string; number: string; class: string; trunk?: string },
  limit?: number,
): { refusal: Refusal; line: string } {
  const { status, reason } = answer(rule, f.class, limit);
  const trunk = f.trunk === undefined ? '' : ` trunk=${f.trunk}`;
  const max = limit === undefined ? '' : ` limit=${limit}`;
  const line = `call refused: user=${f.user} number=${encodeNumber(f.number)} class=${f.class} rule=${rule}${max}${trunk} status=${status}`;
  return { refusal: { ok: false, status, reason, rule, class: f.class }, line };
}

/** A dialled number in a log line: what a number is made of as is, anything else percent-encoded. */
export function encodeNumber(number: string): string {
  return number === '' ? '-' : number.replace(/[^A-Za-z0-9+*#._~-]/g, (c) => encodeURIComponent(c).replace(/[!'()*]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`));
}
