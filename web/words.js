// People's words for what happened to a call or to the connection: "Bob is offline", "Busy", "Number
// not in service" — the SIP status code only in a details line. reasons.js keeps the short "Busy (486)"
// reason strings (history, test hook); this module is what the page shows. Pure: unit-tested
// (test/unit/web/words.test.ts).

/** A name as a person reads it: "bob" → "Bob"; numbers stay as they are. @param {string} peer */
export function personName(peer) {
  const p = String(peer ?? '').trim();
  if (!p) return 'The other party';
  return /^[a-z]/.test(p) ? p[0].toUpperCase() + p.slice(1) : p;
}

/** A user of this server rather than a phone number outside: a name, or a short extension (≤ 6 digits). @param {string} peer */
export function isUserPeer(peer) {
  return /^[A-Za-z][A-Za-z0-9._~+-]*$/.test(peer) || /^\d{2,6}$/.test(peer);
}

/** SIP status code (RFC 3261 §21, RFC 6665 …) → the sentence shown; `who` the other party's name. */
/** @type {Record<number, (who: string, user: boolean) => string>} */
const BY_CODE = {
  400: () => 'The call could not be placed',
  401: () => 'Wrong user name or password',
  402: () => 'Calls to this number need credit',
  403: () => 'You are not allowed to call this number',
  404: (who, user) => (user ? `There is no ${who} here` : 'Number not in service'),
  407: () => 'Wrong user name or password',
  408: (who) => `${who} did not answer`,
  410: () => 'Number no longer in service',
  413: () => 'The call could not be placed',
  415: () => 'The call could not be connected: no common audio format',
  420: () => 'The call could not be placed',
  480: (who, user) => (user ? `${who} is offline` : `${who} is not available right now`),
  481: () => 'The call no longer exists',
  482: () => 'The call could not be routed',
  483: () => 'The call could not be routed',
  484: () => 'Incomplete number: check it and try again',
  485: () => 'Ambiguous number: check it and try again',
  486: (who) => `${who} is busy`,
  487: () => 'Call cancelled',
  488: () => 'The call could not be connected: no common audio format',
  500: () => 'The phone service had a problem: try again in a minute',
  501: () => 'The phone service cannot place this call',
  502: () => 'The phone network had a problem: try again in a minute',
  503: () => 'The phone service is busy: try again in a minute',
  504: () => 'The phone network did not answer: try again in a minute',
  600: (who) => `${who} is busy`,
  603: (who) => `${who} declined the call`,
  604: () => 'Number not in service',
  606: () => 'The call could not be connected: no common audio format',
};

/** Endings without a status code (reasons.js END_REASONS and the incoming-call ends). */
/** @type {Record<string, (who: string) => string>} */
const BY_REASON = {
  'Hung up': () => 'Call ended: Hung up',
  'Remote party hung up': (who) => `${who} hung up`,
  Cancelled: () => 'Call cancelled',
  Declined: () => 'Call declined',
  'Connection to server lost': () => 'Connection lost: check your internet connection',
  'Connection lost': () => 'The call dropped: the connection was lost',
  'Missed call': () => 'Missed call',
  'Answered elsewhere': () => 'Answered on another device',
};

/**
 * What the page shows when a call ended: a sentence and, for a SIP response, a details line with the
 * code and its reason phrase. `reason` is the call's end reason (reasons.js: "Busy (486)", "Hung up",
 * "Media failed: …"); `status`, when known, the final response itself.
 * @param {string} reason @param {string} peer
 * @param {{ code: number, phrase?: string } | null} [status]
 * @returns {{ text: string, detail: string }}
 */
export function endWords(reason, peer, status) {
  const who = personName(peer);
  const user = isUserPeer(String(peer ?? '').trim());
  const parsed = /\((\d{3})\)$/.exec(reason ?? '');
  const code = status?.code ?? (parsed ? Number(parsed[1]) : 0);
  if (code >= 300 && code <= 699) {
    const say = BY_CODE[code] ?? ((/** @type {string} */ w) => (code >= 600 ? `${w} cannot take the call` : 'The call could not be placed'));
    const phrase = String(status?.phrase ?? '').trim();
    return { text: say(who, user), detail: `SIP ${code}${phrase ? ` ${phrase}` : ''}` };
  }
  const r = String(reason ?? '');
  if (r.startsWith('Media failed')) {
    return { text: 'Could not start the audio: check that the page may use your microphone', detail: r.replace(/^Media failed:?\s*/, '') };
  }
  const say = BY_REASON[r];
  return { text: say ? say(who) : r || 'Call ended', detail: '' };
}

/** Codes a refused REFER itself answers with (RFC 3515 §2.4.2; RFC 3261 §21.4.6 405, §21.4.15 420, §21.5.2 501): the
 *  transfer was not taken at all, whoever the target. */
const REFER_REFUSED = new Set([405, 420, 501]);

/**
 * A transfer's progress and outcome in people's words ("Transfer failed: Number not in service"), the
 * SIP code only in a details line ("SIP 404 No route"). `status` is transfer.js's TransferStatus (its
 * `text` "Transfer failed: No route (404)" carries the short reason); `target` who the call was to go to.
 * @param {{ state: string, code: number, text: string }} status @param {string} target
 * @returns {{ text: string, detail: string }}
 */
export function transferWords(status, target) {
  if (status.state !== 'failed' || !(status.code >= 300 && status.code <= 699)) return { text: status.text, detail: '' };
  const label = /: (.*) \(\d{3}\)$/.exec(status.text)?.[1] ?? '';
  const detail = `SIP ${status.code}${label ? ` ${label}` : ''}`;
  if (REFER_REFUSED.has(status.code)) return { text: 'Transfer failed: This call cannot be transferred', detail };
  return { text: `Transfer failed: ${endWords('', target, { code: status.code }).text}`, detail };
}

/** A few words for a list of calls ("Busy", "Offline"), by status code. @type {Record<number, (user: boolean) => string>} */
const SHORT_BY_CODE = {
  403: () => 'Not allowed', 404: (user) => (user ? 'Unknown user' : 'Not in service'), 408: () => 'No answer',
  410: () => 'Not in service', 480: (user) => (user ? 'Offline' : 'Not available'), 484: () => 'Incomplete number',
  486: () => 'Busy', 487: () => 'Cancelled', 600: () => 'Busy', 603: () => 'Declined', 604: () => 'Not in service',
};

/**
 * How a call ended in a few words for the call history ("Busy", "Offline", "Not in service"); endings
 * without a status code keep their reason ("Hung up", "Missed call").
 * @param {string} reason reasons.js end reason @param {string} peer
 */
export function shortEndWords(reason, peer) {
  const m = /\((\d{3})\)$/.exec(reason ?? '');
  if (!m) return String(reason ?? '');
  const code = Number(m[1]);
  const say = SHORT_BY_CODE[code];
  if (say) return say(isUserPeer(String(peer ?? '').trim()));
  return code >= 500 && code < 600 ? 'Service problem' : 'Failed';
}

/**
 * The connection banner: what is wrong and what to do about it ('' when all is well).
 * @param {{ state: string, reason: string, reconnecting: boolean, online?: boolean }} s
 *   state: the registration state (state.js); reason: why it failed; online: navigator.onLine
 * @returns {{ level: 'ok' | 'warn' | 'error', text: string }}
 */
export function bannerWords(s) {
  if (s.reconnecting) {
    const hint = s.online === false ? 'this device seems to be offline: check your Wi-Fi or cable' : 'if this lasts, check your internet connection';
    return { level: 'warn', text: `Connection to the phone server lost. Reconnecting… Calls in progress stay up for a minute; ${hint}.` };
  }
  // Offline but still registered (a LAN-only server, or the browser's guess is wrong): the calls work.
  if (s.online === false && s.state !== 'registered') {
    return { level: 'error', text: 'You are offline. Calls need an internet connection: check your Wi-Fi or cable.' };
  }
  if (s.state !== 'failed') return { level: 'ok', text: '' };
  const r = String(s.reason ?? '');
  if (/\(40[137]\)$/.test(r)) return { level: 'error', text: 'Sign-in refused: check your user name and password, then sign in again.' };
  if (/^Cannot reach the server/.test(r)) {
    return { level: 'error', text: 'Cannot reach the phone server. Check your internet connection, then sign in again.' };
  }
  if (/\(5\d\d\)$/.test(r)) return { level: 'error', text: 'The phone server has a problem. Try again in a minute.' };
  return { level: 'error', text: 'Sign-in failed. Try again; if it keeps failing, ask whoever runs this phone service.' };
}
