// One-line descriptions of messages for debug logs ("INVITE sip:bob@x", "180 Ringing (INVITE)").
import type { SipMessage } from '../message/types.js';

function header(msg: SipMessage, name: string): string | undefined {
  const lower = name.toLowerCase();
  return msg.headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

export function summarize(msg: SipMessage): { summary: string; callId?: string; cseq?: string } {
  const summary = msg.kind === 'request' ? `${msg.method} ${msg.uri}` : `${msg.status} ${msg.reason}`;
  return { summary, callId: header(msg, 'Call-ID'), cseq: header(msg, 'CSeq') };
}
