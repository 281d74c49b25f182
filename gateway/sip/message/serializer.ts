// serializeMessage: SipMessage → bytes (RFC 3261 §7).
import { isToken } from './chars.js';
import { canonicalName, compactName } from './header-names.js';
import type { SipMessage } from './types.js';

const CRLF = '\r\n';

export interface SerializeOptions {
  /** RFC 3261 §7.3.3 compact header names (v, f, t, i, l …) where they exist, for a message that must be
   *  small (a stateless answer over UDP, transport/budget.ts). Default: canonical long names. */
  compact?: boolean;
}

/** Start line, header fields in order under their canonical long names (compact ones with
 *  `opts.compact`), Content-Length always written from body.length in octets (replacing any given one, at
 *  its position, else last), empty line, body. Throws Error when a value holds CR or LF (it would inject
 *  header lines). */
export function serializeMessage(msg: SipMessage, opts: SerializeOptions = {}): Buffer {
  const nameOf = opts.compact ? compactName : canonicalName;
  const lengthName = nameOf('Content-Length');
  let head =
    msg.kind === 'request' ? `${msg.method} ${msg.uri} ${msg.version}` : `${msg.version} ${msg.status} ${msg.reason}`;
  checkLine(head, 'start line');
  head += CRLF;
  let wroteLength = false;
  for (const h of msg.headers) {
    const name = nameOf(h.name);
    if (name === lengthName) {
      if (!wroteLength) head += `${lengthName}: ${msg.body.length}${CRLF}`;
      wroteLength = true;
      continue;
    }
    if (!isToken(name)) throw new Error(`Cannot serialize SIP message: bad header name '${name}'`);
    checkLine(h.value, name);
    head += `${name}: ${h.value}${CRLF}`;
  }
  if (!wroteLength) head += `${lengthName}: ${msg.body.length}${CRLF}`;
  head += CRLF;
  const headBytes = Buffer.from(head, 'utf8');
  return msg.body.length === 0 ? headBytes : Buffer.concat([headBytes, msg.body]);
}

function checkLine(text: string, what: string): void {
  if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0) {
    throw new Error(`Cannot serialize SIP message: CR/LF in ${what}`);
  }
}
