// Bounded label values (README "Operations" → Metrics): a method or status code a peer made up, or a
// trunk the config does not name, never becomes a new series.
import { REASON_PHRASES } from '../sip/message/index.js';

/** RFC 3261 and the extensions the gateway speaks; anything else counts as OTHER. */
const METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE']);

export function methodLabel(method: string | undefined): string {
  return method !== undefined && METHODS.has(method) ? method : 'OTHER';
}

/** A registered status code as itself, any other as its class ("4xx"). */
export function codeLabel(status: number): string {
  if (REASON_PHRASES[status] !== undefined) return String(status);
  return status >= 100 && status <= 699 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** A configured trunk's name, else "none" (a call without a trunk) — never a peer's text. */
export function trunkLabel(trunks: ReadonlySet<string>, name: string | null | undefined): string {
  return name && trunks.has(name) ? name : 'none';
}
