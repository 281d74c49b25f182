// The scanner User-Agent drop on raw bytes, before the message is parsed: a SIPVicious flood of thousands
// of requests a second then costs a lowercase copy of each header section and a substring search, not a
// full parse, Via stamp and validation (README "Security", security.dropUserAgents). It only ever says
// "scanner" when a header line named User-Agent carries one of the names; everything else goes on to the
// parser, and the parsed check (guard.ts screen) stays as the backstop.

/** Header fields looked at: the header section ends at the first empty line (RFC 3261 §7). */
const MAX_HEAD = 8192;

/** The end of the header section as the parser finds it (sip/message/header-section.ts findHeaderEnd):
 *  the first line feed followed by an empty line (LF or CRLF); else the end of what was given. */
function headEnd(text: string, from: number): number {
  for (let i = text.indexOf('\n', from); i >= 0; i = text.indexOf('\n', i + 1)) {
    if (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n')) return i;
  }
  return text.length;
}

/** The User-Agent field values of a lowercased header section (RFC 3261 §7.3.1: name, then optional
 *  whitespace, then the colon; continuation lines start with whitespace). */
function userAgents(head: string): string[] {
  const values: string[] = [];
  let at = head.indexOf('\nuser-agent');
  while (at >= 0) {
    let i = at + '\nuser-agent'.length;
    while (head[i] === ' ' || head[i] === '\t') i++;
    if (head[i] === ':') {
      let end = head.indexOf('\n', i);
      while (end >= 0 && (head[end + 1] === ' ' || head[end + 1] === '\t')) end = head.indexOf('\n', end + 1);
      values.push(head.slice(i + 1, end < 0 ? head.length : end));
    }
    at = head.indexOf('\nuser-agent', i);
  }
  return values;
}

/** Does this raw request carry a User-Agent containing one of `names` (lowercase)? false for a response
 *  (scanners are dropped by what they send), for no User-Agent, or for any other. */
export function rawScannerUserAgent(data: Buffer, names: readonly string[]): boolean {
  if (names.length === 0) return false;
  const text = data.toString('latin1', 0, Math.min(data.length, MAX_HEAD)).toLowerCase();
  // RFC 3261 §7.5: CRLFs before the start line are ignored; a response ("SIP/…") is never screened (guard.ts
  // screen also looks at requests only: scanners are dropped by what they send).
  let start = 0;
  while (text[start] === '\r' || text[start] === '\n') start++;
  if (text.startsWith('sip/', start)) return false;
  const head = text.slice(start, headEnd(text, start));
  if (!head.includes('user-agent')) return false;
  return userAgents(head).some((value) => names.some((name) => value.includes(name)));
}
