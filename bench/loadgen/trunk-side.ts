// Load generator worker, trunk side: per call one plain RTP socket that answers the engine's RTP/AVP
// offer and sends G.711-sized RTP at 50 pkt/s to the offer's address, a send time in each payload;
// what arrives (the browser side's packets, SRTP removed by the engine) is timed against its stamp.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { rtpHeaderLength } from '../../gateway/media/rtp/header.js';
import { parseEngineOffer, trunkAnswer } from './sdp.js';
import { Histogram, pace, PAYLOAD_BYTES, PHASE_MEASURE, RTP_HEADER_BYTES, sinceStampUs, stamp, type WorkerReply, type WorkerRequest } from './common.js';

const ADDRESS = process.env.BENCH_ADDRESS ?? '127.0.0.1';
const latency = new Histogram();
let sent = 0;
let received = 0;

class TrunkCall {
  private readonly ssrc = randomInt(1, 2 ** 32 - 1);
  private seq = randomInt(0, 0x8000);
  private ts = randomInt(0, 2 ** 31);

  constructor(
    readonly socket: dgram.Socket,
    private readonly packet = Buffer.alloc(RTP_HEADER_BYTES + PAYLOAD_BYTES, 0xff),
  ) {
    packet[0] = 0x80;
    packet[1] = 0;
    packet.writeUInt32BE(this.ssrc, 8);
    socket.on('message', (msg) => {
      const us = sinceStampUs(msg, rtpHeaderLength(msg, msg.length));
      if (us < 0) return;
      received++;
      latency.add(us);
    });
  }

  send(phase: number): void {
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + PAYLOAD_BYTES) >>> 0;
    this.packet.writeUInt16BE(this.seq, 2);
    this.packet.writeUInt32BE(this.ts, 4);
    stamp(this.packet, RTP_HEADER_BYTES, phase);
    // A connected socket sends synchronously (no lookup), so the one packet buffer is reused.
    this.socket.send(this.packet);
    if (phase === PHASE_MEASURE) sent++;
  }
}

const calls = new Map<number, TrunkCall>();

async function answer(call: number, offer: string): Promise<string> {
  const to = parseEngineOffer(offer, ADDRESS);
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, ADDRESS, resolve));
  await new Promise<void>((resolve) => socket.connect(to.port, to.address, resolve));
  calls.set(call, new TrunkCall(socket));
  return trunkAnswer(call, ADDRESS, socket.address().port);
}

async function handle(req: WorkerRequest): Promise<Omit<WorkerReply, 'id'>> {
  switch (req.op) {
    case 'answer':
      return { sdp: await answer(req.call, req.sdp) };
    case 'run': {
      latency.counts.fill(0);
      latency.max = 0;
      sent = received = 0;
      const late = await pace([...calls.values()], req.warmupMs, req.measureMs);
      await new Promise((r) => setTimeout(r, 300));
      return { result: { sent, received, latency: { counts: latency.counts, max: latency.max }, ...late } };
    }
    case 'drop':
      calls.get(req.call)?.socket.close();
      calls.delete(req.call);
      return {};
    case 'close':
      for (const call of calls.values()) call.socket.close();
      calls.clear();
      return {};
    default:
      throw new Error(`trunk side: unexpected ${req.op}`);
  }
}

parentPort!.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (reply) => parentPort!.postMessage({ id: req.id, ...reply }),
    (err: Error) => parentPort!.postMessage({ id: req.id, error: err.message }),
  );
});
parentPort!.postMessage({ id: 0 });
