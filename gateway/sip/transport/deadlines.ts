// Per-connection deadlines (issue 8 item 5), one timer per connection, re-armed lazily:
//   first message: an accepted connection completes a SIP message within firstMessageMs of accept;
//   message:       a message whose first byte arrived completes within messageMs (slow-loris);
//   idle:          with nothing bound to it (no registration, no call), idleMs without a complete message.
// RFC 3261 §18.1.1 / §18.3 leave connection lifetime to the implementation; these mirror Kamailio's
// tcp_connection_lifetime / tcp_msg_read_timeout.

export type DeadlineReason = 'first-message' | 'message' | 'idle';

export interface DeadlineLimits {
  firstMessageMs: number;
  messageMs: number;
  idleMs: number;
}

export class ConnectionDeadlines {
  private readonly openedAt: number;
  private sawMessage = false;
  private messageStartedAt: number | undefined;
  private idleSince: number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;

  constructor(
    private readonly limits: DeadlineLimits,
    /** Something (a registration, a call) depends on the connection: it is never idle-closed. */
    private readonly isBound: () => boolean,
    private readonly onExpire: (reason: DeadlineReason) => void,
  ) {
    this.openedAt = Date.now();
    this.idleSince = this.openedAt;
    this.arm();
  }

  /** Bytes were read: `completed` messages (keep-alives included) finished, and an incomplete one is
   *  buffered after them when `inProgress`. */
  progress(completed: number, inProgress: boolean): void {
    if (this.stopped) return;
    const now = Date.now();
    if (completed > 0) {
      this.sawMessage = true;
      this.idleSince = now;
      this.messageStartedAt = undefined;
    }
    if (!inProgress) this.messageStartedAt = undefined;
    else this.messageStartedAt ??= now;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The earliest pending deadline. */
  private next(): { at: number; reason: DeadlineReason } | undefined {
    const { firstMessageMs, messageMs, idleMs } = this.limits;
    const due: Array<{ at: number; reason: DeadlineReason }> = [];
    if (!this.sawMessage && firstMessageMs > 0) due.push({ at: this.openedAt + firstMessageMs, reason: 'first-message' });
    if (this.messageStartedAt !== undefined && messageMs > 0) due.push({ at: this.messageStartedAt + messageMs, reason: 'message' });
    if (idleMs > 0) due.push({ at: this.idleSince + idleMs, reason: 'idle' });
    return due.reduce<{ at: number; reason: DeadlineReason } | undefined>((a, b) => (a && a.at <= b.at ? a : b), undefined);
  }

  /** (Re)schedule the timer when the next deadline is earlier than the one scheduled. */
  private arm(): void {
    const next = this.next();
    if (!next || next.at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = next.at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next.at - Date.now()));
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.stopped) return;
    const next = this.next();
    if (!next) return;
    const now = Date.now();
    if (next.at > now) return this.arm();
    if (next.reason === 'idle' && this.sawMessage && this.isBound()) {
      this.idleSince = now;
      return this.arm();
    }
    this.stop();
    this.onExpire(next.reason);
  }
}
