// parseMessage: bytes → validated SipMessage (RFC 3261 §7, §18.3, §25).
import { isToken } from './chars.js';
import { findHeaderEnd, type HeaderSection, skipLeadingCrlf, splitHeaderSection } from './header-section.js';
import { parseContentLength } from './scalars.js';
import { type HeaderField, type SipMessage, SipParseError } from './types.js';
import { validateRequest, validateResponse } from './validate.js';

const EMPTY = Buffer.alloc(0);

export interface ParseOptions {
  /** The bytes came from a stream (TCP/TLS/WS framed by StreamFramer): Content-Length is mandatory
   *  (RFC 3261 §18.3, §20.14). Default false: a datagram. */
  stream?: boolean;
}

/** Parse one message. The header section is decoded as UTF-8; the body is the exact bytes, counted by
 *  Content-Length in octets. Only valid messages are returned (validateRequest/validateResponse run);
 *  anything else throws SipParseError whose `partial` carries the headers parsed so far. */
export function parseMessage(buf: Buffer, opts: ParseOptions = {}): SipMessage {
  const from = skipLeadingCrlf(buf);
  const found = findHeaderEnd(buf, from);
  if (!found) throw new SipParseError(from >= buf.length ? 'Empty message' : 'Missing empty line after header section');
  const section = splitHeaderSection(buf.toString('utf8', from, found.headerEnd));
  const msg = buildMessage(section, EMPTY);
  msg.body = extractBody(buf, found.bodyStart, section, opts.stream === true);
  if (msg.kind === 'request') validateRequest(msg);
  else validateResponse(msg);
  return msg;
}

function partialOf(section: HeaderSection): SipParseError['partial'] {
  return { ...section.start, headers: section.headers };
}

/** RFC 3261 §18.3: over a datagram a missing Content-Length means the body is the rest of the packet;
 *  "If the message is … larger than the body … the message MUST be discarded / answered 400"; octets
 *  beyond Content-Length are discarded. On streams Content-Length is mandatory. */
function extractBody(buf: Buffer, bodyStart: number, section: HeaderSection, stream: boolean): Buffer {
  const fields = section.headers.filter((h) => h.name === 'Content-Length');
  const available = Math.max(0, buf.length - bodyStart);
  if (fields.length > 1) throw new SipParseError('Duplicate Content-Length header', partialOf(section));
  const field = fields[0];
  if (!field) {
    if (stream) throw new SipParseError('Missing Content-Length on a stream transport', partialOf(section));
    return Buffer.from(buf.subarray(bodyStart));
  }
  let length: number;
  try {
    length = parseContentLength(field.value);
  } catch (e) {
    throw new SipParseError(`${(e as SipParseError).reason}: '${field.value}'`, partialOf(section));
  }
  if (length > available) {
    throw new SipParseError(`Content-Length larger than body (${length} > ${available} bytes)`, partialOf(section));
  }
  return Buffer.from(buf.subarray(bodyStart, bodyStart + length));
}

function buildMessage(section: HeaderSection, body: Buffer): SipMessage {
  const { startLine, headers } = section;
  if (section.start.isRequest === false) return buildResponse(startLine, headers, body, section);
  // RFC 3261 §7.1: Request-Line = Method SP Request-URI SP SIP-Version CRLF — exactly single spaces,
  // no leading/trailing whitespace (RFC 4475 §3.1.2.8–3.1.2.10).
  const parts = startLine.split(' ');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) {
    throw new SipParseError('Bad Request-Line: expected Method SP Request-URI SP SIP-Version', partialOf(section));
  }
  const [method, uri, version] = parts as [string, string, string];
  if (!isToken(method)) throw new SipParseError('Bad Request-Line: invalid method', partialOf(section));
  return { kind: 'request', method, uri, version, headers, body };
}

/** Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF; Status-Code = 3DIGIT. */
function buildResponse(startLine: string, headers: HeaderField[], body: Buffer, section: HeaderSection): SipMessage {
  const sp1 = startLine.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : startLine.indexOf(' ', sp1 + 1);
  const version = startLine.slice(0, sp1 < 0 ? startLine.length : sp1);
  const code = sp1 < 0 ? '' : startLine.slice(sp1 + 1, sp2 < 0 ? startLine.length : sp2);
  if (!/^[1-6][0-9][0-9]$/.test(code)) {
    throw new SipParseError('Bad Status-Line: Status-Code must be 3 digits, 100-699', partialOf(section));
  }
  const reason = sp2 < 0 ? '' : startLine.slice(sp2 + 1);
  return { kind: 'response', status: Number(code), reason, version, headers, body };
}
