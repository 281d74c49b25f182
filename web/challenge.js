// Interop shim for sip.js 0.21.2, whose parser keeps only the LAST WWW-Authenticate (or
// Proxy-Authenticate) header of a response, while its digest code supports MD5 only.
// RFC 8760 §2.4: a server that offers several algorithms sends one challenge per algorithm, most
// preferred first — so a compliant 401 lists SHA-256 before MD5, and sip.js would pick SHA-256
// and give up. We move the MD5 challenge to the end before sip.js parses the message.
// Pure module (string in, string out): unit-tested.

const CHALLENGE = /^(www-authenticate|proxy-authenticate)\s*:/i;

/** @param {string} line a header line */
function isMd5Challenge(line) {
  const m = /\balgorithm\s*=\s*"?([A-Za-z0-9-]+)"?/i.exec(line);
  // RFC 2617 §3.2.1: an absent algorithm means MD5.
  return !m || m[1]?.toUpperCase() === 'MD5';
}

/**
 * Returns `raw` with, for each challenge header name, MD5 challenges moved after the others.
 * Requests, other responses and single-challenge responses come back unchanged.
 * @param {string} raw a whole SIP message as received
 */
export function preferMd5Challenge(raw) {
  if (typeof raw !== 'string' || !/^SIP\/2\.0 40[17] /.test(raw)) return raw;
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return raw;
  const lines = raw.slice(0, end).split('\r\n');
  for (const name of ['www-authenticate', 'proxy-authenticate']) {
    const idx = lines.flatMap((l, i) => (CHALLENGE.test(l) && l.toLowerCase().startsWith(name) ? [i] : []));
    if (idx.length < 2) continue;
    const group = idx.map((i) => /** @type {string} */ (lines[i]));
    // Same slots, new order: every non-MD5 challenge first, MD5 last (the one sip.js keeps).
    const ordered = [...group.filter((l) => !isMd5Challenge(l)), ...group.filter(isMd5Challenge)];
    idx.forEach((i, k) => { lines[i] = /** @type {string} */ (ordered[k]); });
  }
  return lines.join('\r\n') + raw.slice(end);
}

/**
 * Installs preferMd5Challenge in front of a sip.js UserAgent's transport. Must run after the
 * UserAgent constructor (which sets transport.onMessage) and before start().
 * @param {any} ua
 */
export function installChallengeShim(ua) {
  const transport = ua.transport;
  const deliver = transport.onMessage;
  if (typeof deliver !== 'function') return;
  transport.onMessage = (/** @type {string} */ message) => deliver(preferMd5Challenge(message));
}
