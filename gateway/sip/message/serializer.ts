// serializeMessage: SipMessage → bytes (RFC 3261 §7).
import { isToken } from './chars.js';
import { canonicalName } from './header-names.js';
import type { SipMessage } from './types.js';

const CRLF = '\r\n';

/** Start line, header fields in order under their canonical long names, Content-Length always written
 *  from body.length in octets (replacing any given one, at its position, else last), empty line, body.
 *  Throws Error when a value holds CR or LF (it would inject header lines). */
export function serializeMessage(msg: SipMessage): Buffer {
  let head =
    msg.kind === 'request' ? `${msg.method} ${msg.uri} ${msg.version}` : `${msg.version} ${msg.status} ${msg.reason}`;
  checkLine(head, 'start line');
  head += CRLF;
  let wroteLength = false;
  for (const h of msg.headers) {
    const name = canonicalName(h.name);
    if (name === 'Content-Length') {
      if (!wroteLength) head += `Content-Length: ${msg.body.length}${CRLF}`;
      wroteLength = true;
      continue;
    }
    if (!isToken(name)) throw new Error(`Cannot serialize SIP message: bad header name '${name}'`);
    checkLine(h.value, name);
    head += `${name}: ${h.value}${CRLF}`;
  }
  if (!wroteLength) head += `Content-Length: ${msg.body.length}${CRLF}`;
  head += CRLF;
  const headBytes = Buffer.from(head, 'utf8');
  return msg.body.length === 0 ? headBytes : Buffer.concat([headBytes, msg.body]);
}

function checkLine(text: string, what: string): void {
  if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0) {
    throw new Error(`Cannot serialize SIP message: CR/LF in ${what}`);
  }
}
