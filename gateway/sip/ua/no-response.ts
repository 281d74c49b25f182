// Giving up on an INVITE that got no response at all, sooner than Timer B — what a proxy's "final response
// timer" does before it tries the next destination (Kamailio's fr_timer). RFC 3261 leaves how long a TU
// waits to the TU (§17.1.1.2: Timer B "64*T1" is the transaction's own limit); what the TU may do once it
// gives up is fixed by §9.1 and §15, and the invite client already does it in hangup():
// - §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent; rather, the
//   client MUST wait for the arrival of a provisional response before sending the request." The client
//   moves to `cancelling`: a late provisional brings the CANCEL, and its final response is not reported.
// - §15: a 2xx that still arrives "MUST" be acknowledged and the session ended with BYE (the raced-2xx path).
// The transaction itself keeps retransmitting until Timer B (§17.1.1.2): a dead peer costs a few packets,
// a slow one still gets its CANCEL.
import type { InviteClient } from './invite-client.js';

export type Abandonable = Pick<InviteClient, 'responded' | 'state' | 'hangup'>;

/** After `ms`, if the INVITE of `client` has had no response at all (not even 100 Trying) and is still
 *  unanswered, the leg is given up as above and `onSilent` runs (the TU treats it as a 408, §8.1.3.1).
 *  Returns the function that stops watching (call it on any outcome). */
export function giveUpWithoutResponse(client: Abandonable, ms: number, onSilent: () => void): () => void {
  const timer = setTimeout(() => {
    if (client.responded || client.state !== 'calling') return;
    client.hangup();
    onSilent();
  }, ms);
  return () => clearTimeout(timer);
}
