// Pure helpers for incoming calls on top of sip.js objects (duck-typed: no sip.js import), kept out
// of phone.js so that file stays the SIP flow only. Unit-tested through test/unit/web/phone.test.ts.
import { callerIdOf } from './callerid.js';
import { END_REASONS } from './reasons.js';

/** What the call line says when a CANCEL ended a ringing incoming call. */
export const INCOMING_END_TEXT = Object.freeze({ missed: 'Missed call', 'answered-elsewhere': 'Answered elsewhere' });

/**
 * The end state of the incoming-call machine: an answered call just 'ended'; before that, a CANCEL
 * decides (missed / answered elsewhere), then our own decline; anything else (failure) 'ended'.
 * @param {string} state @param {{ outcome: string } | null} cancelled @param {string} reason
 */
export function incomingEnd(state, cancelled, reason) {
  if (state === 'answered') return 'ended';
  if (cancelled) return cancelled.outcome;
  return reason === END_REASONS.declined ? 'declined' : 'ended';
}

/** All values of a header of an sip.js message, comma-joined ('' if none). @param {any} msg @param {string} name */
export function headerValues(msg, name) {
  const values = typeof msg?.getHeaders === 'function' ? msg.getHeaders(name) : [];
  return Array.isArray(values) ? values.join(', ') : '';
}

/** Caller ID of an sip.js Invitation: raw From and P-Asserted-Identity, else sip.js's parsed From. @param {any} invitation */
export function incomingCallerId(invitation) {
  const req = invitation.request;
  const from = typeof req?.getHeader === 'function' ? req.getHeader('From') : undefined;
  const id = callerIdOf({ from, pai: headerValues(req, 'P-Asserted-Identity') });
  if (id.number !== 'unknown' || id.displayName) return id;
  const parsed = invitation.remoteIdentity;
  return { number: parsed?.uri?.user || 'unknown', displayName: parsed?.displayName || '' };
}
