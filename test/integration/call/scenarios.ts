// SIPp scenarios for a trunk calling in, written to a file per test: INVITE to [service] with a G.711
// offer and a "Jane Doe" caller ID, then one expected final response (ACKed on the INVITE's branch,
// RFC 3261 §17.1.1.3) — or a CANCEL after the 180.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const INVITE = `
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK[pid]inv[call_number]
      From: "Jane Doe" <sip:+15557654321@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:trunk@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=trunk 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 8 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=sendrecv
`;

const request = (method: string, cseq: string) => `
      ${method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK[pid]inv[call_number]
      From: "Jane Doe" <sip:+15557654321@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>${method === 'ACK' ? '[peer_tag_param]' : ''}
      Call-ID: [call_id]
      CSeq: ${cseq}
      Max-Forwards: 70
      Content-Length: 0
`;

const cdata = (text: string) => `<![CDATA[\n${text}\n    ]]>`;

function scenario(name: string, body: string): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n<scenario name="${name}">\n${body}\n</scenario>\n`;
}

/** INVITE; optional 100 and 180 (required with ringing: true); then `status`, ACKed. */
export function uacExpectFinal(dir: string, status: number, o: { ringing?: boolean } = {}): string {
  const file = join(dir, `uac-expect-${status}-${Date.now()}-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(
    file,
    scenario(
      `uac-expect-${status}`,
      `  <send retrans="500">${cdata(INVITE)}</send>
  <recv response="100" optional="true" />
  <recv response="180" optional="${o.ringing ? 'false' : 'true'}" />
  <recv response="${status}" />
  <send>${cdata(request('ACK', '1 ACK'))}</send>
  <timewait milliseconds="200" />`,
    ),
  );
  return file;
}

/** INVITE; optional 100; 180; CANCEL after cancel_ms (-set cancel_ms N); 200 to the CANCEL; 487, ACKed. */
export function uacCancelAfterRinging(dir: string): string {
  const file = join(dir, `uac-cancel-${Date.now()}-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(
    file,
    scenario(
      'uac-cancel-after-ringing',
      `  <Global variables="cancel_ms" />
  <send retrans="500">${cdata(INVITE)}</send>
  <recv response="100" optional="true" />
  <recv response="180" />
  <nop hide="true"><action><todouble assign_to="cancel_after" variable="cancel_ms" /></action></nop>
  <pause variable="cancel_after" />
  <send retrans="500">${cdata(request('CANCEL', '1 CANCEL'))}</send>
  <recv response="200" />
  <recv response="487" />
  <send>${cdata(request('ACK', '1 ACK'))}</send>
  <timewait milliseconds="200" />`,
    ),
  );
  return file;
}
