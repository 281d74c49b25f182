// One media session of a call, held as a handle: the offer/answer/echo requests for that session go through
// it, and close() frees it in the media engine exactly once. A request still in flight when the handle is
// closed frees what it allocated again when it completes (the engine may have created the session late).
import type { Logger } from '../log.js';
import type { AnswerRequest, EchoRequest, MediaEngine, OfferRequest, SdpResult } from '../media/types.js';

type WithoutKey<T> = Omit<T, 'callId'>;

export class MediaSession {
  private closed = false;

  constructor(
    private readonly engine: MediaEngine,
    /** The engine's session key (gateway-internal, not a SIP Call-ID). */
    readonly key: string,
    private readonly log: Logger,
    /** Placement groups of the session's first offer/echo (OfferRequest.groups). */
    private readonly groups?: string[],
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  offer(req: WithoutKey<OfferRequest>): Promise<SdpResult> {
    return this.run(() => this.engine.offer({ groups: this.groups, ...req, callId: this.key }));
  }

  answer(req: WithoutKey<AnswerRequest>): Promise<SdpResult> {
    return this.run(() => this.engine.answer({ ...req, callId: this.key }));
  }

  echo(req: WithoutKey<EchoRequest>): Promise<SdpResult> {
    return this.run(() => this.engine.echo({ groups: this.groups, ...req, callId: this.key }));
  }

  /** Frees the session; later calls do nothing. A failure is only logged (the call is over either way). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.free();
  }

  private async run(op: () => Promise<SdpResult>): Promise<SdpResult> {
    const result = await op();
    if (this.closed) this.free();
    return result;
  }

  private free(): void {
    this.engine.delete(this.key).catch((err: Error) => this.log.warn({ err: err.message }, 'media delete failed'));
  }
}
