// Locating and splitting the header section of a message held in bytes (RFC 3261 §7).
import { TOKEN, inTable, isWs, trimWs } from './chars.js';
import { canonicalName } from './header-names.js';
import { SipParseError, type HeaderField } from './types.js';

const LF = 0x0a;
const CR = 0x0d;

/** RFC 3261 §7.5: "ignore any CRLF appearing before the start-line" (also RFC 5626 §3.5.1 keep-alives). */
export function skipLeadingCrlf(buf: Buffer, from = 0): number {
  let i = from;
  while (i < buf.length && (buf[i] === CR || buf[i] === LF)) i++;
  return i;
}

/** Find the empty line ending the header section. Returns the index where the header text ends (the
 *  last header line's terminator is excluded) and where the body starts, or undefined if not present yet.
 *  CRLF is the terminator (RFC 3261 §7); a bare LF is tolerated. */
export function findHeaderEnd(buf: Buffer, from: number): { headerEnd: number; bodyStart: number } | undefined {
  let i = buf.indexOf(LF, from);
  while (i >= 0) {
    const lineEnd = i > from && buf[i - 1] === CR ? i - 1 : i;
    if (buf[i + 1] === LF) return { headerEnd: lineEnd, bodyStart: i + 2 };
    if (buf[i + 1] === CR && buf[i + 2] === LF) return { headerEnd: lineEnd, bodyStart: i + 3 };
    i = buf.indexOf(LF, i + 1);
  }
  return undefined;
}

/** What the start line revealed, for SipParseError.partial. */
export interface StartInfo {
  method?: string;
  isRequest?: boolean;
}

/** A loose look at the start line: enough to fill SipParseError.partial before strict parsing. */
export function peekStart(startLine: string): StartInfo {
  const sp = startLine.indexOf(' ');
  const first = sp < 0 ? startLine : startLine.slice(0, sp);
  if (/^SIP\//i.test(first)) return { isRequest: false };
  return { method: first, isRequest: true };
}

export interface HeaderSection {
  startLine: string;
  start: StartInfo;
  headers: HeaderField[];
}

/** Split the decoded header section into the start line and header fields. RFC 3261 §7.3.1: a line
 *  starting with whitespace continues the previous field (folding); the fold is one SP. */
export function splitHeaderSection(text: string): HeaderSection {
  const lines = text.split(/\r?\n/);
  const startLine = lines[0] ?? '';
  const start = peekStart(startLine);
  const headers: HeaderField[] = [];
  let current: { name: string; value: string } | undefined;
  if (startLine.indexOf('\r') >= 0) throw headerError('Bad start line: bare CR', headers, start);
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] ?? '';
    // RFC 3261 §7: lines end in CRLF; a CR anywhere else cannot be represented in a field value.
    if (line.indexOf('\r') >= 0) throw headerError('Bad header line: bare CR', headers, start);
    if (line.length > 0 && isWs(line.charCodeAt(0))) {
      if (!current) throw headerError('Bad header line: continuation without a header', headers, start);
      current.value = current.value.length === 0 ? trimWs(line) : `${current.value} ${trimWs(line)}`;
      continue;
    }
    current = parseFieldLine(line, headers, start);
    headers.push(current);
  }
  for (const h of headers) h.value = trimWs(h.value);
  return { startLine, headers, start };
}

/** message-header = field-name HCOLON field-value; HCOLON = *( SP / HTAB ) ":" SWS */
function parseFieldLine(line: string, headers: HeaderField[], start: StartInfo): HeaderField {
  let i = 0;
  while (i < line.length && inTable(TOKEN, line.charCodeAt(i))) i++;
  const name = line.slice(0, i);
  while (i < line.length && isWs(line.charCodeAt(i))) i++;
  if (name.length === 0 || line.charAt(i) !== ':') {
    const why = name.length === 0 ? 'invalid header name' : `missing ':' after ${name}`;
    throw headerError(`Bad header line: ${why}`, headers, start);
  }
  return { name: canonicalName(name), value: trimWs(line.slice(i + 1)) };
}

function headerError(reason: string, headers: HeaderField[], start: StartInfo): SipParseError {
  return new SipParseError(reason, { ...start, headers: headers.slice() });
}
