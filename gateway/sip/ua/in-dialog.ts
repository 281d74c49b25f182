// The UA-level dispatcher of requests inside an INVITE dialog (RFC 3261 §12.2.2), the same for both
// usages: the invite server (we are the UAS of the dialog) and the invite client (we are its UAC).
// BYE and OPTIONS are answered here; what a session modification (re-INVITE, UPDATE) gets is decided by
// the session layer above through SessionHooks (call/ supplies the policy).
import type { Dialog } from '../dialog/index.js';
import type { SipRequest } from '../message/types.js';
import type { ServerTransaction } from '../transaction/types.js';
import { answerInfo, type DtmfDigit } from './info.js';
import { optionsReply, reply, type ReplyOptions } from './uas.js';

/** Answers the request a hook was given (once; the server transaction absorbs retransmissions). */
export type Respond = (status: number, reason: string, options?: ReplyOptions) => void;

/** The session layer's say on an in-dialog session modification. Each hook MUST answer through `respond`
 *  (or through `tx` for a hand-built response). `dialog` is the usage's confirmed dialog. */
export interface SessionHooks {
  /** A re-INVITE (RFC 3261 §14.2), with or without an offer. */
  onReinvite(req: SipRequest, respond: Respond, tx: ServerTransaction, dialog: Dialog): void;
  /** An UPDATE (RFC 3311 §5.2). */
  onUpdate(req: SipRequest, respond: Respond, tx: ServerTransaction, dialog: Dialog): void;
  /** The ACK for a 2xx the session layer sent to a re-INVITE (it carries the answer when that re-INVITE
   *  had no offer, RFC 3261 §14.2). */
  onAck?(ack: SipRequest, dialog: Dialog): void;
  /** A DTMF digit in an INFO (info.ts: already answered 200). Absent: INFO gets 405. */
  onDtmfInfo?(digit: DtmfDigit, req: SipRequest): void;
  /** A REFER in the dialog (RFC 3515; call/transfer*.ts decides). Absent: 405. */
  onRefer?(req: SipRequest, tx: ServerTransaction, dialog: Dialog): void;
}

export interface InDialogHandlers {
  /** The peer's BYE, already answered 200; the usage decides whether it was still up. */
  onBye(): void;
  session: SessionHooks;
}

/** Answers an in-dialog request (not ACK). §12.2.2: a CSeq lower than the last one seen gets a 500. */
export function dispatchInDialog(dialog: Dialog | undefined, req: SipRequest, tx: ServerTransaction, h: InDialogHandlers): void {
  if (dialog?.receiveRequest(req) === 'out-of-order') return reply(tx, 500, 'Server Internal Error: CSeq out of order');
  const respond: Respond = (status, reason, options) => reply(tx, status, reason, options);
  switch (req.method) {
    case 'BYE':
      reply(tx, 200, 'OK');
      return h.onBye();
    case 'OPTIONS':
      return tx.respond(optionsReply(req));
    case 'INVITE':
      // A dialog exists whenever the registry routed a request here; without one the request is stale.
      if (!dialog) return reply(tx, 481, 'Call/Transaction Does Not Exist');
      return h.session.onReinvite(req, respond, tx, dialog);
    case 'UPDATE':
      if (!dialog) return reply(tx, 481, 'Call/Transaction Does Not Exist');
      return h.session.onUpdate(req, respond, tx, dialog);
    case 'REFER':
      if (!dialog) return reply(tx, 481, 'Call/Transaction Does Not Exist');
      if (h.session.onRefer) return h.session.onRefer(req, tx, dialog);
      return reply(tx, 405, 'Method Not Allowed');
    case 'INFO': {
      // RFC 6086 §4.2.2 (info.ts): 469 for an Info Package, 415 for a body that is not DTMF, 200 else
      const onDtmf = h.session.onDtmfInfo;
      if (!dialog) return reply(tx, 481, 'Call/Transaction Does Not Exist');
      if (!onDtmf) return reply(tx, 405, 'Method Not Allowed');
      return answerInfo(req, (status, reason, headers) => reply(tx, status, reason, { headers }), (digit) => onDtmf(digit, req));
    }
    default:
      return reply(tx, 405, 'Method Not Allowed');
  }
}
