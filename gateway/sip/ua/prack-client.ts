// The invite client's side of RFC 3262 (100rel): a reliable 1xx is PRACKed in the early dialog it created
// (RAck from reliable-provisional.ts), each early dialog's CSeq carries on into the confirmed dialog, and
// for an INVITE without an offer a reliable 1xx may bring the offer — its PRACK then waits for our answer.
import type { Logger } from '../../log.js';
import { Dialog } from '../dialog/index.js';
import { getTo } from '../message/index.js';
import type { HeaderField, SipRequest, SipResponse } from '../message/types.js';
import { ReliableProvisionalClient } from './reliable-provisional.js';

export interface PrackEnv {
  logger: Logger;
  /** The INVITE has no offer (late offer). */
  lateOffer: boolean;
  /** Sends an in-dialog request (Via added) of `dialog` to its remote target. */
  send(req: SipRequest, dialog: Dialog): void;
}

export class PrackClient {
  /** RFC 3262 §4: RSeq bookkeeping of the reliable 1xx we received. */
  private readonly rseq = new ReliableProvisionalClient();
  /** The early dialogs (by To tag) in which we sent PRACK. */
  private readonly early = new Map<string, Dialog>();
  private offer: { invite: SipRequest; res: SipResponse; headers: HeaderField[] } | undefined;
  private answered = false;

  constructor(private readonly env: PrackEnv) {}

  /** Whether the offer came in a reliable 1xx and was answered in its PRACK (the 2xx then offers nothing). */
  get answeredEarly(): boolean {
    return this.answered;
  }

  /** RFC 3262 §4: a reliable 1xx (Require: 100rel + RSeq) is PRACKed; one whose RSeq is not the next
   *  in sequence "MUST NOT be acknowledged with a PRACK, and MUST NOT be processed further". False when
   *  the 1xx must not be processed (a retransmission, out of order, or without a valid RSeq). */
  onProvisional(invite: SipRequest, res: SipResponse): boolean {
    let verdict;
    try {
      verdict = this.rseq.onProvisional(res);
    } catch (err) {
      this.env.logger.info({ err: (err as Error).message }, 'reliable 1xx ignored');
      return false;
    }
    if (verdict.kind === 'discard') return false;
    if (verdict.kind !== 'prack') return true;
    const offers = this.env.lateOffer && !this.answered && !this.offer && res.body.length > 0;
    if (offers) this.offer = { invite, res, headers: verdict.headers };
    else this.sendPrack(invite, res, verdict.headers);
    return true;
  }

  /** RFC 3262 §5 (paraphrased): the offer of an INVITE without one may come in a reliable 1xx; the answer
   *  then goes in the PRACK. Sends that PRACK with `answer`; ignored when no such offer waits. */
  answerEarlyOffer(answer: string): void {
    const pending = this.offer;
    if (!pending || this.answered) return;
    this.answered = true;
    this.offer = undefined;
    this.sendPrack(pending.invite, pending.res, pending.headers, answer);
  }

  /** §12.2.1.1: our CSeq keeps increasing from the early dialog's PRACKs into the confirmed dialog. */
  continueSeq(dialog: Dialog): void {
    const seq = this.early.get(dialog.id.remoteTag)?.localSeq;
    if (seq !== undefined && seq > (dialog.localSeq ?? 0)) dialog.localSeq = seq;
  }

  /** RFC 3262 §7.2 (paraphrased): the PRACK is an ordinary request of the early dialog the 1xx created,
   *  with the RAck naming the 1xx's RSeq and CSeq. */
  private sendPrack(invite: SipRequest, res: SipResponse, headers: HeaderField[], answer?: string): void {
    const tag = getTo(res).params.tag ?? '';
    let early = this.early.get(tag);
    if (!early) {
      try {
        early = Dialog.fromUacResponse(invite, res);
      } catch (err) {
        return this.env.logger.info({ err: (err as Error).message }, 'reliable 1xx without a dialog: no PRACK');
      }
      this.early.set(tag, early);
    }
    const body = answer === undefined ? {} : { body: Buffer.from(answer), contentType: 'application/sdp' };
    this.env.send(early.createRequest('PRACK', { headers, ...body }), early);
  }
}
