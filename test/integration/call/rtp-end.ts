// One end of a call's media in the mid-call tests: a UDP socket on 127.0.0.1 that sends numbered PCMU
// frames every 20 ms to where the gateway's SDP told it, and records the frames it receives, so a test
// can count which frames (sent during hold, after resume …) reached the other end.
import { countFrames, frame, payloadOf, rtpPacket, startTrunk, until, type Trunk } from '../media/peers.js';

export class RtpEnd {
  /** The number of the next frame this end sends. */
  next: number;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly socket: Trunk,
    /** Frame numbers of this end start here (each end its own range). */
    readonly base: number,
  ) {
    this.next = base;
  }

  static async open(base: number): Promise<RtpEnd> {
    return new RtpEnd(await startTrunk(), base);
  }

  get port(): number {
    return this.socket.port;
  }

  /** Sends a frame every 20 ms to `dest` until stop(). */
  start(dest: { address: string; port: number }): void {
    this.stop();
    this.timer = setInterval(() => {
      const n = this.next++;
      this.socket.socket.send(rtpPacket(n, frame(n), 0x1000 + this.base).serialize(), dest.port, dest.address);
    }, 20);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** How many of the frames [from, to) of the other end arrived here. */
  got(from: number, to: number): number {
    return countFrames(this.socket.rtp.map(payloadOf), from, Math.max(0, to - from));
  }

  /** Waits until at least `count` frames of [from, ∞) of `sender` arrived here. */
  async waitFrames(sender: RtpEnd, from: number, count: number, what: string): Promise<void> {
    await until(() => this.got(from, sender.next) >= count, 10_000, what);
  }

  async close(): Promise<void> {
    this.stop();
    await this.socket.close();
  }
}
