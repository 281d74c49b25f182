// Which INVITE usage (an invite server or invite client) owns which dialog: in-dialog requests, ACKs and
// stray 2xx retransmissions are routed here by dialog ID (RFC 3261 §12; lookup by the dialog layer's
// DialogStore).
import type { Dialog, DialogId } from '../dialog/index.js';
import { DialogStore } from '../dialog/index.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { ServerTransaction } from '../transaction/types.js';
import type { Flow } from '../transport/types.js';

/** A usage that owns a dialog. */
export interface DialogOwner {
  /** A request inside the dialog (not ACK). The owner answers it. */
  onRequest(req: SipRequest, tx: ServerTransaction): void;
  /** The ACK for our 2xx (RFC 3261 §13.3.1.4). */
  onAck(ack: SipRequest, flow: Flow): void;
  /** A response the transaction layer matched to no transaction (e.g. a late 2xx retransmission). */
  onStrayResponse(res: SipResponse): void;
}

export class DialogRegistry {
  private readonly store = new DialogStore();
  private readonly owners = new WeakMap<Dialog, DialogOwner>();

  add(dialog: Dialog, owner: DialogOwner): void {
    this.store.add(dialog);
    this.owners.set(dialog, owner);
  }

  remove(dialog: Dialog): void {
    this.store.delete(dialog.id);
  }

  /** §12.2.2: the dialog of an incoming request (local tag = To tag), or undefined (→ 481). */
  forRequest(req: SipRequest): DialogOwner | undefined {
    const d = this.store.findForRequest(req);
    return d && this.owners.get(d);
  }

  /** The dialog of a response to our request (local tag = From tag). */
  forResponse(res: SipResponse): DialogOwner | undefined {
    const d = this.store.findForResponse(res);
    return d && this.owners.get(d);
  }

  /** The dialog with this ID and its owner (RFC 3891 §3: the dialog a Replaces names). */
  find(id: DialogId): { dialog: Dialog; owner: DialogOwner } | undefined {
    const dialog = this.store.get(id);
    const owner = dialog && this.owners.get(dialog);
    return dialog && owner ? { dialog, owner } : undefined;
  }

  get size(): number {
    return this.store.size;
  }
}
