// What one call leaves behind in the transaction layer while its transactions wait out their last timers
// (Timer L after the ACK, Timer M, Timer J, Timer K: 5-32 s, RFC 3261 §17 / RFC 6026): the live V8 heap and
// the memory outside it (Buffers) per call, after a forced garbage collection. A call here is what the
// signalling bench's calls do: an INVITE with SDP from the phone answered 200 and ACKed, an INVITE to the
// trunk answered 200, a BYE from the phone answered 200, a BYE to the trunk answered 200. A socket-free
// transport serializes as the real one does and reports the bytes written (onWritten).
// `npx tsx bench/signalling-heap.ts` (BENCH_SIG_HEAP_CALLS, default 5000).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLogger } from '../gateway/log.js';
import { parseMessage, serializeMessage } from '../gateway/sip/message/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../gateway/sip/message/types.js';
import { createTransactionLayer, type ServerTransaction } from '../gateway/sip/transaction/index.js';
import type { Flow, OnWritten, SipTransport } from '../gateway/sip/transport/types.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const CALLS = Number(process.env.BENCH_SIG_HEAP_CALLS ?? 5000);

const flow: Flow = {
  id: 'udp-phone', transport: 'udp', local: { address: '127.0.150.1', port: 5060 }, sentBy: { address: '127.0.150.1', port: 5060 },
  remote: { address: '127.0.150.2', port: 5070 }, reliable: false, alive: true, onClose: () => () => {},
};
let deliver: (m: SipMessage, f: Flow) => void = () => {};
const transport: SipTransport = {
  send: (m: SipMessage, _d: unknown, w?: OnWritten) => (w?.({ data: serializeMessage(m), flow }), Promise.resolve(flow)),
  sendResponse: (m: SipResponse, _f: Flow, w?: OnWritten) => (w?.({ data: serializeMessage(m), flow }), Promise.resolve()),
  resend: () => Promise.resolve(),
  onMessage: (h) => void (deliver = h),
  localAddress: () => ({ address: '127.0.150.1', port: 5060 }),
  close: () => Promise.resolve(),
};

const SDP = 'v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.150.2\r\ns=-\r\nc=IN IP4 127.0.150.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

/** A request as SIPp's phone writes it, received in a datagram of its own (as dgram hands them over). */
function wire(start: string, branch: string, callId: string, cseq: string, toTag = '', body = ''): SipRequest {
  const text = [
    start, `Via: SIP/2.0/UDP 127.0.150.2:5070;branch=${branch};rport=5070;received=127.0.150.2`,
    `From: "phone" <sip:phone@127.0.150.1>;tag=${callId}SIPpTag00`, `To: <sip:5551234@127.0.150.1>${toTag}`,
    `Call-ID: ${callId}@127.0.150.2`, `CSeq: ${cseq}`, 'Contact: <sip:phone@127.0.150.2:5070>', 'Max-Forwards: 70',
    'Proxy-Authorization: Digest username="phone",realm="gw",nonce="abcdef0123456789abcdef",uri="sip:5551234@127.0.150.1:5060",response="0123456789abcdef0123456789abcdef",algorithm=MD5',
    'Subject: Performance Test', 'User-Agent: SIPp', 'Content-Type: application/sdp', `Content-Length: ${body.length}`, '', body,
  ].join('\r\n');
  const datagram = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  datagram.write(text);
  return parseMessage(datagram) as SipRequest;
}

function ok(req: SipRequest, toTag: string): SipResponse {
  const copied = req.headers.filter((h) => ['Via', 'From', 'To', 'Call-ID', 'CSeq'].includes(h.name));
  const headers = copied.map((h) => (h.name === 'To' ? { name: 'To', value: `${h.value};tag=${toTag}` } : h));
  headers.push({ name: 'Contact', value: '<sip:gw@127.0.150.1>' });
  return { kind: 'response', status: 200, reason: 'OK', version: 'SIP/2.0', headers, body: Buffer.from(req.method === 'INVITE' ? SDP : '') };
}

const layer = createTransactionLayer({ transport, logger: createLogger('silent') });
let server: ServerTransaction | undefined;
layer.onRequest((_req, tx) => void (server = tx));
const quiet = { onResponse: () => {}, onTimeout: () => {}, onTransportError: () => {} };

function call(i: number): void {
  deliver(wire('INVITE sip:5551234@127.0.150.1:5060 SIP/2.0', `z9hG4bK-si${i}`, `c${i}`, '2 INVITE', '', SDP), flow);
  server!.respond(ok(server!.request, 'gw'));
  deliver(wire('ACK sip:gw@127.0.150.1 SIP/2.0', `z9hG4bK-sa${i}`, `c${i}`, '2 ACK', ';tag=gw'), flow);
  const out = wire('INVITE sip:5551234@127.0.150.3:5080 SIP/2.0', `z9hG4bK-ci${i}`, `t${i}`, '1 INVITE', '', SDP);
  layer.sendRequest(out, flow, quiet);
  deliver(ok(out, 'trunk'), flow);
  deliver(wire('BYE sip:gw@127.0.150.1 SIP/2.0', `z9hG4bK-sb${i}`, `c${i}`, '3 BYE', ';tag=gw'), flow);
  server!.respond(ok(server!.request, 'gw'));
  server = undefined;
  const bye = wire('BYE sip:5551234@127.0.150.3:5080 SIP/2.0', `z9hG4bK-cb${i}`, `t${i}`, '2 BYE', ';tag=trunk');
  layer.sendRequest(bye, flow, quiet);
  deliver(ok(bye, 'trunk'), flow);
}

async function settled(): Promise<NodeJS.MemoryUsage> {
  await new Promise((r) => setImmediate(r));
  gc();
  gc();
  return process.memoryUsage();
}

for (let i = 0; i < 200; i++) call(1e6 + i); // warm-up: code compiled, tables grown
const before = await settled();
for (let i = 0; i < CALLS; i++) call(i);
const after = await settled();
const kib = (bytes: number): string => (bytes / CALLS / 1024).toFixed(2);
const outside = (m: NodeJS.MemoryUsage): number => m.external + m.arrayBuffers;
console.log(`per call held by its waiting transactions (${CALLS} calls): heap ${kib(after.heapUsed - before.heapUsed)} KiB, outside the heap ${kib(outside(after) - outside(before))} KiB`);
layer.close();
