// A tiny parser for SIPp's -trace_msg file: every SIP message SIPp sent or received, in order.
// File layout (SIPp 3.6): a line of 47 dashes and a timestamp, then "UDP message received [N] bytes :" or
// "UDP message sent (N bytes):", an empty line, the message as on the wire (CRLF), and one extra "\n".
import type { HeaderField, SipMessage } from '../../gateway/sip/message/types.js';

export interface SippTraceEntry {
  /** From SIPp's point of view. */
  direction: 'sent' | 'received';
  transport: string;
  time: string;
  raw: string;
  message: SipMessage;
}

/** RFC 3261 §7.3.3 compact forms → canonical names (as gateway/sip/message/types.ts wants). */
const COMPACT: Record<string, string> = {
  i: 'Call-ID', m: 'Contact', e: 'Content-Encoding', l: 'Content-Length', c: 'Content-Type', f: 'From',
  s: 'Subject', k: 'Supported', t: 'To', v: 'Via',
};
const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID', 'cseq': 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'record-route': 'Record-Route',
};

function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT[lower] ?? CANONICAL[lower] ?? lower.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

const SEPARATOR = /^-{20,} (\S+ \S+)\n/m;
const DIRECTION = /^(\w+) message (sent|received)\b[^\n]*\n\n/;

/** Parses one wire message (CRLF or LF line ends). Throws with a reason on a malformed start line. */
export function parseWireMessage(raw: string): SipMessage {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const bodyText = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const lines = head.split(/\r?\n/);
  const start = lines.shift() ?? '';
  const headers: HeaderField[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1]!.value += ` ${line.trim()}`; // RFC 3261 §7.3.1 folding
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push({ name: canonicalName(line.slice(0, colon).trim()), value: line.slice(colon + 1).trim() });
  }
  const length = headers.find((h) => h.name === 'Content-Length')?.value;
  const bodyBuf = Buffer.from(bodyText, 'utf8');
  const body = length !== undefined && /^\d+$/.test(length) ? bodyBuf.subarray(0, Number(length)) : bodyBuf;
  const resp = /^(SIP\/\d\.\d) (\d{3}) ?(.*)$/.exec(start);
  if (resp) return { kind: 'response', version: resp[1]!, status: Number(resp[2]), reason: resp[3]!, headers, body };
  const req = /^([A-Za-z]+) (\S+) (SIP\/\d\.\d)$/.exec(start);
  if (!req) throw new Error(`malformed start line in SIPp trace: "${start}"`);
  return { kind: 'request', method: req[1]!, uri: req[2]!, version: req[3]!, headers, body };
}

/** Every message in a -trace_msg file's text. Entries that fail to parse are skipped. */
export function parseSippTrace(text: string): SippTraceEntry[] {
  const entries: SippTraceEntry[] = [];
  const parts = text.split(SEPARATOR);
  // split with one capture group: [preamble, time1, block1, time2, block2, …]
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const time = parts[i]!;
    const block = parts[i + 1]!;
    const dir = DIRECTION.exec(block);
    if (!dir) continue;
    const raw = block.slice(dir[0].length).replace(/\n$/, '');
    try {
      entries.push({ direction: dir[2] as 'sent' | 'received', transport: dir[1]!, time, raw, message: parseWireMessage(raw) });
    } catch {
      // a truncated last entry (SIPp still writing) is left out
    }
  }
  return entries;
}

/** First value of a header in a parsed trace message (case-insensitive name). */
export function traceHeader(message: SipMessage, name: string): string | undefined {
  const lower = canonicalName(name).toLowerCase();
  return message.headers.find((h) => h.name.toLowerCase() === lower)?.value;
}
