// Requests WE send inside an established INVITE dialog (RFC 3261 §12.2.1): BYE, and for the session layer
// re-INVITE (§14.1), UPDATE (RFC 3311) or INFO. Shared by the invite server and the invite client; for a
// re-INVITE the UAC core "MUST generate an ACK request for each 2xx received" (§13.2.2.4), also here.
import type { Dialog, CreateRequestOptions } from '../dialog/index.js';
import { getCSeq } from '../message/index.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { ClientTransactionHandlers, TransactionLayer } from '../transaction/types.js';
import type { Flow, SipTransport, Target } from '../transport/types.js';
import { withVia, type ViaSpec } from './request.js';

export interface DialogRequestEnv {
  transactions: TransactionLayer;
  transport: SipTransport;
  dialog: Dialog;
  via: ViaSpec;
  /** Where in-dialog requests go (the caller's flow, or the remote target resolved). */
  dest: Promise<Flow | Target>;
}

export type DialogRequestOptions = Omit<CreateRequestOptions, 'contact'>;

/** Builds and sends `method` in the dialog; `handlers` hear every response (a 2xx to a re-INVITE is ACKed
 *  first, each time it arrives). Resolves with the request sent, or rejects when it could not be sent. */
export async function sendDialogRequest(env: DialogRequestEnv, method: string, o: DialogRequestOptions, handlers: ClientTransactionHandlers): Promise<SipRequest> {
  const req = withVia(env.dialog.createRequest(method, o), env.via);
  const dest = await env.dest;
  const isInvite = req.method === 'INVITE';
  const ack = isInvite ? withVia(env.dialog.createAck(getCSeq(req).seq), env.via) : undefined;
  env.transactions.sendRequest(req, dest, {
    ...handlers,
    onResponse: (res: SipResponse) => {
      if (ack && res.status >= 200 && res.status < 300) void env.transport.send(ack, dest).catch(() => undefined);
      handlers.onResponse(res);
    },
  });
  return req;
}
