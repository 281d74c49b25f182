// Hand-built SIP messages for the transaction tests (independent of the message layer's parser).
import type { HeaderField, SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';

export interface RequestSpec {
  method: string;
  branch?: string;
  sentBy?: string;
  cseq?: number;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  routes?: string[];
}

export function request(spec: RequestSpec): SipRequest {
  const { method, branch = 'z9hG4bK-abc', sentBy = '127.0.0.1:5070', cseq = 1, callId = 'call-1' } = spec;
  const to = `<sip:bob@127.0.0.1>${spec.toTag ? `;tag=${spec.toTag}` : ''}`;
  const headers: HeaderField[] = [
    { name: 'Via', value: `SIP/2.0/UDP ${sentBy};branch=${branch};rport` },
    ...(spec.routes ?? []).map((r) => ({ name: 'Route', value: r })),
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: `"Alice" <sip:alice@127.0.0.1>;tag=${spec.fromTag ?? 'from-1'}` },
    { name: 'To', value: to },
    { name: 'Call-ID', value: callId },
    { name: 'CSeq', value: `${cseq} ${method === 'ACK' ? 'ACK' : method}` },
    { name: 'Content-Length', value: '0' },
  ];
  return { kind: 'request', method, uri: 'sip:bob@127.0.0.1', version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

/** A response to `req` (headers copied as §8.2.6.2 says), optionally adding a To tag. */
export function response(req: SipRequest, status: number, toTag?: string, reason = 'Reason'): SipResponse {
  const headers = req.headers
    .filter((h) => ['via', 'from', 'to', 'call-id', 'cseq'].includes(h.name.toLowerCase()))
    .map((h) => (h.name === 'To' && toTag ? { name: 'To', value: `${h.value};tag=${toTag}` } : h));
  return { kind: 'response', status, reason, version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

export function header(msg: { headers: HeaderField[] }, name: string): string | undefined {
  return msg.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}
