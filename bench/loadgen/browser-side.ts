// Load generator worker, browser side: per call one UDP socket that offers like a browser (ICE
// credentials, a host candidate, DTLS fingerprint, setup:actpass, rtcp-mux), then does what a browser
// does with the answer: a STUN Binding request with USE-CANDIDATE and MESSAGE-INTEGRITY (RFC 8445
// §7.2.2, the answerer's ufrag/pwd), a DTLS 1.2 handshake as the client (the project's DtlsSession over
// werift), RFC 5764 keys, and SRTP AES_CM_128_HMAC_SHA1_80 at 50 pkt/s with a send time in the payload.
import dgram from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { createLogger } from '../../gateway/log.js';
import { createDtlsCertificate } from '../../gateway/media/dtls/certificate.js';
import { DtlsSession } from '../../gateway/media/dtls/session.js';
import { rtpHeaderLength } from '../../gateway/media/rtp/header.js';
import { classify } from '../../gateway/media/rtp/index.js';
import { srtpContextsFromDtls, type SrtpContextPair } from '../../gateway/media/srtp/index.js';
import { buildBindingRequest, handleBindingRequest } from '../../gateway/media/stun/index.js';
import { browserOffer, parseEngineAnswer } from './sdp.js';
import { Histogram, pace, PAYLOAD_BYTES, PHASE_MEASURE, RTP_HEADER_BYTES, sinceStampUs, stamp, type WorkerReply, type WorkerRequest } from './common.js';

const logger = createLogger((process.env.BENCH_LOADGEN_LOG ?? 'silent') as 'silent');
const certificate = await createDtlsCertificate();
const ADDRESS = process.env.BENCH_ADDRESS ?? '127.0.0.1';
const STUN_TRIES = 50;
const STUN_RETRY_MS = 100;
/** A handshake that has not completed by then fails (the bench sets the call up again). */
const DTLS_TIMEOUT_MS = 10_000;

const latency = new Histogram();
let sent = 0;
let received = 0;

class BrowserCall {
  readonly ufrag = randomBytes(6).toString('base64url');
  readonly pwd = randomBytes(18).toString('base64url');
  private readonly ssrc = randomInt(1, 2 ** 32 - 1);
  private seq = randomInt(0, 0x8000);
  private ts = randomInt(0, 2 ** 31);
  private readonly plain = Buffer.alloc(RTP_HEADER_BYTES + PAYLOAD_BYTES, 0xff);
  private srtp: SrtpContextPair | undefined;
  private dtls: DtlsSession | undefined;
  private stunDone: (() => void) | undefined;

  constructor(readonly socket: dgram.Socket) {
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    this.plain[0] = 0x80;
    this.plain[1] = 0;
    this.plain.writeUInt32BE(this.ssrc, 8);
  }

  offer(call: number): string {
    const port = this.socket.address().port;
    return browserOffer({ call, address: ADDRESS, port, ufrag: this.ufrag, pwd: this.pwd, fingerprint: certificate.fingerprint, ssrc: this.ssrc });
  }

  /** ICE check with the answer's credentials to its candidate, then DTLS as the client. */
  async connect(answer: string): Promise<void> {
    const { address, port, ufrag, pwd, fingerprint, role } = parseEngineAnswer(answer, ADDRESS);
    // Connected: the socket then takes datagrams from the engine's port only, and sends without a lookup.
    await new Promise<void>((resolve) => this.socket.connect(port, address, resolve));
    await this.iceCheck(ufrag, pwd);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`DTLS (${role}): no handshake in ${DTLS_TIMEOUT_MS} ms`)), DTLS_TIMEOUT_MS);
      this.dtls = new DtlsSession({
        role,
        certificate,
        remoteFingerprint: fingerprint,
        send: (d) => this.socket.send(d),
        onKeys: (keys) => {
          this.srtp = srtpContextsFromDtls(keys.keyingMaterial, keys.role);
          clearTimeout(timer);
          resolve();
        },
        onFailed: (reason) => {
          clearTimeout(timer);
          reject(new Error(`DTLS (${role}): ${reason}`));
        },
        logger,
      });
      this.dtls.start();
    });
  }

  private async iceCheck(ufrag: string, pwd: string): Promise<void> {
    const done = new Promise<void>((resolve) => (this.stunDone = resolve));
    for (let i = 0; i < STUN_TRIES; i++) {
      const check = buildBindingRequest({ username: `${ufrag}:${this.ufrag}`, password: pwd, controlling: 0x1234n, useCandidate: true });
      this.socket.send(check);
      const answered = await Promise.race([done.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), STUN_RETRY_MS))]);
      if (answered) return;
    }
    throw new Error('no STUN success response');
  }

  send(phase: number): void {
    if (!this.srtp) return;
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + PAYLOAD_BYTES) >>> 0;
    this.plain.writeUInt16BE(this.seq, 2);
    this.plain.writeUInt32BE(this.ts, 4);
    stamp(this.plain, RTP_HEADER_BYTES, phase);
    this.socket.send(this.srtp.local.protectRtp(this.plain));
    if (phase === PHASE_MEASURE) sent++;
  }

  private receive(msg: Buffer, from: dgram.RemoteInfo): void {
    const kind = classify(msg);
    if (kind === 'rtp') {
      const plain = this.srtp?.remote.unprotectRtp(msg);
      if (!plain) return;
      const us = sinceStampUs(plain, rtpHeaderLength(plain, plain.length));
      if (us < 0) return;
      received++;
      latency.add(us);
    } else if (kind === 'stun') {
      const type = msg.readUInt16BE(0);
      if (type === 0x0101) this.stunDone?.();
      // A full ICE agent (rtpengine) checks the pair from its side too; a browser answers its checks.
      else if (type === 0x0001) {
        const answer = handleBindingRequest(msg, { address: from.address, port: from.port }, { localUfrag: this.ufrag, localPwd: this.pwd });
        if (answer) this.socket.send(answer.response);
      }
    } else if (kind === 'dtls') {
      this.dtls?.handle(msg);
    }
  }

  close(): void {
    this.dtls?.close();
    this.socket.close();
  }
}

const calls = new Map<number, BrowserCall>();

async function handle(req: WorkerRequest): Promise<Omit<WorkerReply, 'id'>> {
  switch (req.op) {
    case 'open': {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, ADDRESS, resolve));
      const call = new BrowserCall(socket);
      calls.set(req.call, call);
      return { sdp: call.offer(req.call) };
    }
    case 'connect':
      await calls.get(req.call)!.connect(req.sdp);
      return {};
    case 'run': {
      latency.counts.fill(0);
      latency.max = 0;
      sent = received = 0;
      const late = await pace([...calls.values()], req.warmupMs, req.measureMs);
      await new Promise((r) => setTimeout(r, 300)); // the last packets land
      return { result: { sent, received, latency: { counts: latency.counts, max: latency.max }, ...late } };
    }
    case 'drop':
      calls.get(req.call)?.close();
      calls.delete(req.call);
      return {};
    case 'close':
      for (const call of calls.values()) call.close();
      calls.clear();
      return {};
    default:
      throw new Error(`browser side: unexpected ${req.op}`);
  }
}

parentPort!.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (reply) => parentPort!.postMessage({ id: req.id, ...reply }),
    (err: Error) => parentPort!.postMessage({ id: req.id, error: err.message }),
  );
});
parentPort!.postMessage({ id: 0 });
