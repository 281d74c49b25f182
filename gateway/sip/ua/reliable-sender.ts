// The invite server's reliable provisional responses (RFC 3262 §3) on a real clock: the pure
// ReliableProvisionalServer (reliable-provisional.ts) decides what goes reliably and when; this owns the
// retransmission timer, the 1xx waiting behind an unacknowledged one, and the 2xx held until the PRACK.
import type { HeaderField, SipRequest, SipResponse } from '../message/types.js';
import { ReliableProvisionalServer, type ReliableServerOptions } from './reliable-provisional.js';

export interface ReliableSenderIo {
  /** Puts a response on the INVITE's server transaction (first sending or retransmission). */
  send(res: SipResponse): void;
  /** §3: no PRACK for 64*T1 — the INVITE is to be rejected with `status` (5xx). */
  giveUp(status: number): void;
}

/** Builds the 1xx with these extra header fields (Require: 100rel, RSeq when reliable). */
export type ProvisionalBuilder = (headers: HeaderField[]) => SipResponse;

export class ReliableSender {
  private readonly rp: ReliableProvisionalServer;
  private unacked: SipResponse | undefined;
  /** The latest 1xx that could not go while another was unacknowledged (it goes once that one is). */
  private waiting: { status: number; hasSdp: boolean; build: ProvisionalBuilder } | undefined;
  /** A 2xx that must wait for the PRACK of a reliable 1xx with SDP. */
  private heldFinal: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    invite: SipRequest,
    private readonly io: ReliableSenderIo,
    opts: Partial<ReliableServerOptions> = {},
  ) {
    this.rp = new ReliableProvisionalServer(invite, { now: Date.now, ...opts });
  }

  /** Whether a 1xx with this status goes reliably (the caller asked for or allowed 100rel). */
  reliable(status: number): boolean {
    return this.rp.shouldSendReliably(status);
  }

  /** Sends a 1xx: reliably when the caller asked for or allowed it (§3), else as usual. One reliable 1xx
   *  at a time: a later one waits for the PRACK (only the latest is kept). */
  provisional(status: number, hasSdp: boolean, build: ProvisionalBuilder): void {
    if (this.done) return;
    if (!this.rp.shouldSendReliably(status)) return this.io.send(build([]));
    if (!this.rp.canSendReliable()) {
      this.waiting = { status, hasSdp, build };
      return;
    }
    const { headers } = this.rp.send(status, hasSdp);
    this.unacked = build(headers);
    this.io.send(this.unacked);
    this.schedule();
  }

  /** §3: "the UAS MUST NOT send a final response until those provisional responses are acknowledged" when
   *  one with SDP is not — a 2xx is then held (`send` runs on the PRACK); anything else goes now. */
  final(status: number, send: () => void): void {
    if (this.done) return;
    if (!this.rp.canSendFinal(status)) {
      this.heldFinal = send;
      return;
    }
    this.finish();
    send();
  }

  /** A PRACK in the early dialog: `answer` gets its status first (200; 481 unmatched; 400 bad RAck),
   *  then a held 2xx or a waiting 1xx goes. */
  onPrack(prack: SipRequest, answer: (status: number) => void): void {
    const result = this.rp.onPrack(prack);
    answer(result.status);
    if (result.status !== 200) return;
    this.unacked = undefined;
    clearTimeout(this.timer);
    const held = this.heldFinal;
    if (held) {
      this.finish();
      held();
    } else if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      this.provisional(w.status, w.hasSdp, w.build);
    }
  }

  /** No more 1xx and no retransmissions (a final response went out, or the usage ended). */
  finish(): void {
    this.done = true;
    this.rp.onFinalSent();
    this.waiting = undefined;
    this.heldFinal = undefined;
    clearTimeout(this.timer);
  }

  /** §3: retransmit at T1, 2*T1, 4*T1 … until the PRACK; after 64*T1 give up. */
  private schedule(): void {
    clearTimeout(this.timer);
    const next = this.rp.timers()[0];
    if (!next) return;
    this.timer = setTimeout(() => {
      if (next.action === 'give-up') {
        this.finish();
        return this.io.giveUp(next.status);
      }
      if (this.unacked) this.io.send(this.unacked);
      this.rp.onRetransmitted();
      this.schedule();
    }, Math.max(0, next.at - Date.now()));
  }
}
