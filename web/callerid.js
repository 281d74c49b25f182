// Caller ID and CANCEL reasons of incoming calls, read from raw SIP header values. Pure module
// (no DOM, no sip.js): unit-tested.

/**
 * Splits a header value on commas that are outside quotes and angle brackets (RFC 3261 §7.3.1:
 * several values of one header may be joined by commas).
 * @param {string} value
 */
export function splitHeaderValues(value) {
  const parts = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted && ch === '\\' && i + 1 < value.length) {
      cur += ch + value[++i];
      continue;
    }
    if (ch === '"' && !angle) quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if (ch === ',' && !quoted && !angle) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts.filter((p) => p.length > 0);
}

/** @param {string} s percent-escaped URI user part (RFC 3261 §25.1) */
function unescapeUser(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The number (user part) of a sip:/sips:/tel: URI, or '' if it has none.
 * @param {string} uri
 */
export function numberOfUri(uri) {
  const m = /^(sips?|tel):([^;?]*)/i.exec(uri.trim());
  if (!m) return '';
  const scheme = (m[1] ?? '').toLowerCase();
  const rest = m[2] ?? '';
  // RFC 3966 §3: tel:<number>[;params]; RFC 3261 §19.1.1: sip:user[:password]@host
  if (scheme === 'tel') return unescapeUser(rest);
  const at = rest.lastIndexOf('@');
  if (at < 0) return '';
  return unescapeUser(rest.slice(0, at).split(':')[0] ?? '');
}

/**
 * Parses one name-addr / addr-spec (RFC 3261 §20.10: `"Display" <sip:u@h>;tag=x`, `Name <tel:+1>`,
 * or a bare `sip:u@h;tag=x`) into its display name and number. Null when there is no usable URI.
 * @param {string} value
 * @returns {{ displayName: string, number: string, uri: string } | null}
 */
export function parseNameAddr(value) {
  const v = String(value ?? '').trim();
  if (!v) return null;
  const lt = v.indexOf('<');
  let display = '';
  let uri;
  if (lt >= 0) {
    const gt = v.indexOf('>', lt);
    if (gt < 0) return null;
    uri = v.slice(lt + 1, gt).trim();
    display = v.slice(0, lt).trim();
    // RFC 3261 §25.1 quoted-string: strip the quotes and the backslash escapes.
    if (display.startsWith('"') && display.endsWith('"') && display.length >= 2) {
      display = display.slice(1, -1).replace(/\\(.)/g, '$1');
    }
  } else {
    uri = v.split(';')[0]?.trim() ?? '';
  }
  if (!/^(sips?|tel):/i.test(uri)) return null;
  return { displayName: display.slice(0, 80), number: numberOfUri(uri).slice(0, 64), uri };
}

/**
 * Who is calling: RFC 3325 §9.1 P-Asserted-Identity (the network-asserted identity; it may carry a
 * sip: and a tel: value) wins over From, which the caller chose. A display name missing in one is
 * taken from the other.
 * @param {{ from?: string, pai?: string }} headers raw header values
 * @returns {{ number: string, displayName: string }}
 */
export function callerIdOf(headers) {
  const from = parseNameAddr(headers.from ?? '');
  const asserted = splitHeaderValues(headers.pai ?? '')
    .map(parseNameAddr)
    .filter((x) => x !== null && x.number);
  const best = asserted.find((a) => /^tel:/i.test(a?.uri ?? '')) ?? asserted[0] ?? null;
  const number = best?.number || from?.number || '';
  const displayName = asserted.find((a) => a?.displayName)?.displayName || from?.displayName || '';
  return { number: number || 'unknown', displayName };
}

/** "Alice (+15550100)", "+15550100", or "Alice" when the number is unknown. @param {{ number: string, displayName: string }} id */
export function callerLabel(id) {
  if (!id.displayName) return id.number;
  if (!id.number || id.number === 'unknown' || id.number === id.displayName) return id.displayName;
  return `${id.displayName} (${id.number})`;
}

/**
 * What a CANCEL of a ringing call means. RFC 3326 §2: `Reason: SIP ;cause=200 ;text="Call completed
 * elsewhere"` says another device answered — not a missed call; any other (or no) Reason: missed.
 * @param {string | undefined} reasonHeader raw Reason header value(s)
 * @returns {{ outcome: 'answered-elsewhere' | 'missed', text: string }}
 */
export function cancelOutcome(reasonHeader) {
  for (const value of splitHeaderValues(String(reasonHeader ?? ''))) {
    const [protocol, ...params] = value.split(';').map((p) => p.trim());
    if (protocol?.toUpperCase() !== 'SIP') continue;
    const cause = params.find((p) => /^cause\s*=/i.test(p))?.split('=')[1]?.trim();
    const textParam = params.find((p) => /^text\s*=/i.test(p));
    const text = textParam ? textParam.slice(textParam.indexOf('=') + 1).trim().replace(/^"(.*)"$/, '$1') : '';
    if (cause === '200') return { outcome: 'answered-elsewhere', text: text || 'Answered elsewhere' };
    if (text) return { outcome: 'missed', text };
  }
  return { outcome: 'missed', text: 'Not answered' };
}
