// How a call leg answers a request inside its dialog (RFC 3261 §12.2.2), the same for both kinds of leg:
// the browser leg (we are the UAS of the dialog) and a UAC leg (we are its UAC).
import type { Dialog } from '../sip/dialog/index.js';
import type { SipRequest } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import { optionsReply, reply } from '../sip/ua/uas.js';

/** Answers an in-dialog request (not ACK). A BYE gets 200 first, then `onBye` ends the leg (the leg
 *  decides whether it is still up). §12.2.2: a CSeq lower than the last one seen gets a 500. */
export function answerInDialog(dialog: Dialog | undefined, req: SipRequest, tx: ServerTransaction, onBye: () => void): void {
  if (dialog?.receiveRequest(req) === 'out-of-order') return reply(tx, 500, 'Server Internal Error: CSeq out of order');
  switch (req.method) {
    case 'BYE':
      reply(tx, 200, 'OK');
      return onBye();
    case 'OPTIONS':
      return tx.respond(optionsReply(req));
    case 'INVITE':
    case 'UPDATE':
      // Re-INVITE/UPDATE (hold, ICE restart) is not supported yet: §14.2 lets the UAS reject the offer,
      // "the UAS … MUST return a 488 (Not Acceptable Here)" and the session stays as it was.
      return reply(tx, 488, 'Not Acceptable Here: session modification not supported');
    default:
      return reply(tx, 405, 'Method Not Allowed');
  }
}
