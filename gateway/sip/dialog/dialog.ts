// RFC 3261 §12 dialogs: creation on either side, in-dialog request construction, CSeq bookkeeping.
import { randomInt } from 'node:crypto';
import type { HeaderField, SipRequest, SipResponse } from '../message/types.js';
import { DialogError, readAddress, readCallId, readContactUri, readCSeq, readRecordRoutes, routeInfo } from './headers.js';
import { StateMachine } from '../../lib/state-machine.js';
import { DIALOG_MACHINE, type DialogState } from './state.js';

export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

export interface CreateRequestOptions {
  body?: Buffer;
  contentType?: string;
  headers?: HeaderField[];
  /** Contact header value (name-addr). Defaults to the dialog's local contact for target refreshes. */
  contact?: string;
}

export interface DialogInit {
  id: DialogId;
  state: DialogState;
  localUri: string;
  remoteUri: string;
  localSeq: number | undefined;
  remoteSeq: number | undefined;
  remoteTarget: string;
  routeSet: string[];
  secure: boolean;
  localContact?: string;
}

/** Methods whose 2xx refresh the remote target (RFC 3261 §12.2.1.2; UPDATE per RFC 3311 §5.1). */
const TARGET_REFRESH = new Set(['INVITE', 'UPDATE']);

/** RFC 3261 §19.1.1 table: "method" and headers are "not allowed" in a Request-URI. */
function asRequestUri(uri: string): string {
  return uri
    .split('?')[0]!
    .split(';')
    .filter((p, i) => i === 0 || p.trim().toLowerCase().split('=')[0] !== 'method')
    .join(';');
}

export class Dialog {
  readonly id: DialogId;
  readonly localUri: string;
  readonly remoteUri: string;
  readonly secure: boolean;
  /** Empty (undefined) until we send our first request on a UAS-created dialog (§12.1.1). */
  localSeq: number | undefined;
  /** Empty (undefined) until the peer's first request on a UAC-created dialog (§12.1.2). */
  remoteSeq: number | undefined;
  remoteTarget: string;
  routeSet: string[];
  localContact: string | undefined;
  private readonly fsm: StateMachine<DialogState>;

  constructor(init: DialogInit) {
    this.id = { ...init.id };
    this.fsm = new StateMachine(DIALOG_MACHINE, init.state);
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = [...init.routeSet];
    this.secure = init.secure;
    this.localContact = init.localContact;
  }

  get state(): DialogState {
    return this.fsm.state;
  }

  /** Moves along the dialog state machine; throws IllegalDialogTransition for an edge §12 does not have. */
  transition(to: DialogState): void {
    this.fsm.to(to);
  }

  /** §12.1.2: the UAC side, from the request we sent and a 101-199 or 2xx response carrying a To tag. */
  static fromUacResponse(request: SipRequest, response: SipResponse): Dialog {
    if (response.status < 101 || response.status >= 300) {
      throw new DialogError(`a ${response.status} response does not create a dialog`);
    }
    const to = readAddress(response, 'To');
    if (!to.tag) throw new DialogError('response has no To tag');
    const from = readAddress(request, 'From');
    if (!from.tag) throw new DialogError('request has no From tag');
    // §12.1.2: "The remote target MUST be set to the URI from the Contact header field of the response."
    const remoteTarget = readContactUri(response);
    if (remoteTarget === undefined) throw new DialogError('response has no Contact');
    return new Dialog({
      id: { callId: readCallId(request), localTag: from.tag, remoteTag: to.tag },
      state: response.status < 200 ? 'early' : 'confirmed',
      localUri: from.uri,
      remoteUri: to.uri,
      // §12.1.2: "The local sequence number MUST be set to the value of the sequence number in the CSeq
      // header field of the request. The remote sequence number MUST be empty"
      localSeq: readCSeq(request).seq,
      remoteSeq: undefined,
      remoteTarget,
      // §12.1.2: "The route set MUST be set to the list of URIs in the Record-Route header field from the
      // response, taken in reverse order and preserving all URI parameters."
      routeSet: readRecordRoutes(response).reverse(),
      // §12.1.2: "If the request was sent over TLS, and the Request-URI contained a SIPS URI, the "secure"
      // flag is set to TRUE." (the caller never sends sips: over anything but TLS)
      secure: /^sips:/i.test(request.uri),
      localContact: requestContact(request),
    });
  }

  /** §12.1.1: the UAS side, from the request received, the To tag we put in our response, and our Contact. */
  static fromUasRequest(request: SipRequest, localTag: string, localContact?: string): Dialog {
    const from = readAddress(request, 'From');
    if (!from.tag) throw new DialogError('request has no From tag');
    // §12.1.1: "The remote target MUST be set to the URI from the Contact header field of the request."
    const remoteTarget = readContactUri(request);
    if (remoteTarget === undefined) throw new DialogError('request has no Contact');
    return new Dialog({
      id: { callId: readCallId(request), localTag, remoteTag: from.tag },
      state: 'early',
      localUri: readAddress(request, 'To').uri,
      remoteUri: from.uri,
      localSeq: undefined,
      // §12.1.1: "The remote sequence number MUST be set to the value of the sequence number in the CSeq
      // header field of the request. The local sequence number MUST be empty."
      remoteSeq: readCSeq(request).seq,
      remoteTarget,
      // §12.1.1: "The route set MUST be set to the list of URIs in the Record-Route header field from the
      // request, taken in order and preserving all URI parameters."
      routeSet: readRecordRoutes(request),
      secure: /^sips:/i.test(request.uri),
      localContact,
    });
  }

  /** A new in-dialog request (§12.2.1.1). Not ACK (use createAck) nor CANCEL (§9.1: not in-dialog).
   *  No Via: the caller adds it. The CSeq is the local sequence number incremented by one. */
  createRequest(method: string, o: CreateRequestOptions = {}): SipRequest {
    const m = method.toUpperCase();
    if (m === 'ACK') throw new DialogError('build an ACK with createAck(inviteCseq)');
    if (m === 'CANCEL') throw new DialogError('CANCEL is not an in-dialog request (RFC 3261 §9.1)');
    if (this.fsm.state === 'terminated') throw new DialogError('dialog is terminated');
    // §12.2.1.1: "If the local sequence number is empty, an initial value MUST be chosen using the
    // guidelines of Section 8.1.1.5" ("MUST be less than 2**31"). Otherwise it is incremented by one.
    const seq = this.localSeq === undefined ? randomInt(1, 2 ** 31 - 1) : this.localSeq + 1;
    if (seq > 0xffffffff) throw new DialogError('local CSeq space exhausted');
    this.localSeq = seq;
    const contact = o.contact ?? (TARGET_REFRESH.has(m) ? this.localContact : undefined);
    return this.build(m, seq, { ...o, contact });
  }

  /** The ACK for a 2xx to INVITE (§13.2.2.4): built as any in-dialog request, with the INVITE's CSeq
   *  number and method ACK; the local sequence number does not move. */
  createAck(inviteCseq: number, o: CreateRequestOptions = {}): SipRequest {
    return this.build('ACK', inviteCseq, o);
  }

  /** §12.2.2 CSeq check of a request received in this dialog. 'out-of-order' → the caller answers 500. */
  receiveRequest(req: SipRequest): 'ok' | 'out-of-order' {
    const { seq } = readCSeq(req);
    // §12.2.2: "If the remote sequence number is empty, it MUST be set to the value of the sequence number
    // in the CSeq header field value in the request."
    if (this.remoteSeq === undefined) {
      this.remoteSeq = seq;
      return 'ok';
    }
    // §12.2.2: "If the remote sequence number was not empty, but the sequence number of the request is
    // lower than the remote sequence number, the request is out of order and MUST be rejected with a 500"
    if (seq < this.remoteSeq) return 'out-of-order';
    this.remoteSeq = seq;
    return 'ok';
  }

  /** UAC side: a response to a request we sent in (or while establishing) this dialog. */
  receiveResponse(method: string, response: SipResponse): void {
    const is2xx = response.status >= 200 && response.status < 300;
    if (is2xx && this.fsm.state === 'early' && method.toUpperCase() === 'INVITE') {
      // §13.2.2.4: "the dialog MUST be transitioned to the "confirmed" state, and the route set for the
      // dialog MUST be recomputed based on the 2xx response using the procedures of Section 12.2.1.2."
      this.transition('confirmed');
      this.routeSet = readRecordRoutes(response).reverse();
    }
    // §12.3: "if a request outside of a dialog generates a non-2xx final response, any early dialogs
    // created through provisional responses to that request are terminated."
    if (response.status >= 300 && this.fsm.state === 'early' && method.toUpperCase() === 'INVITE') {
      this.transition('terminated');
    }
    // §12.2.1.2: "When a UAC receives a 2xx response to a target refresh request, it MUST replace the
    // dialog's remote target URI with the URI from the Contact header field in that response, if present."
    if (is2xx && TARGET_REFRESH.has(method.toUpperCase())) this.refreshTarget(response);
  }

  /** Replaces the remote target with the message's Contact URI, if it has one (§12.2.1.2 / §12.2.2;
   *  per RFC 6141 §3.4 a UAS applies a re-INVITE's Contact once it answers it with a 2xx). */
  refreshTarget(message: SipRequest | SipResponse): void {
    const contact = readContactUri(message);
    if (contact !== undefined) this.remoteTarget = contact;
  }

  /** Where the next request goes before DNS: the first Route's URI, or the remote target (§12.2.1.1,
   *  RFC 3261 §8.1.2). The caller resolves it to a transport Target. */
  nextHopUri(): string {
    const first = this.routeSet[0];
    return first === undefined ? this.remoteTarget : routeInfo(first).uri;
  }

  /** Request-URI and Route header values per §12.2.1.1. */
  private routing(): { requestUri: string; routes: string[] } {
    const first = this.routeSet[0];
    // "If the route set is empty, the UAC MUST place the remote target URI into the Request-URI. The UAC
    // MUST NOT add a Route header field to the request."
    if (first === undefined) return { requestUri: this.remoteTarget, routes: [] };
    const { uri, loose } = routeInfo(first);
    // "If the route set is not empty, and the first URI in the route set contains the lr parameter …, the
    // UAC MUST place the remote target URI into the Request-URI and MUST include a Route header field
    // containing the route set values in order, including all parameters."
    if (loose) return { requestUri: this.remoteTarget, routes: [...this.routeSet] };
    // "If the route set is not empty, and its first URI does not contain the lr parameter, the UAC MUST
    // place the first URI from the route set into the Request-URI, stripping any parameters that are not
    // allowed in a Request-URI. The UAC MUST add a Route header field containing the remainder of the
    // route set values in order, including all parameters. The UAC MUST then place the remote target URI
    // into the Route header field as the last value."
    return { requestUri: asRequestUri(uri), routes: [...this.routeSet.slice(1), `<${this.remoteTarget}>`] };
  }

  private build(method: string, seq: number, o: CreateRequestOptions): SipRequest {
    const { requestUri, routes } = this.routing();
    const headers: HeaderField[] = routes.map((value) => ({ name: 'Route', value }));
    headers.push(
      // RFC 3261 §8.1.1.6: Max-Forwards "SHOULD" be 70.
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: `<${this.localUri}>;tag=${this.id.localTag}` },
      { name: 'To', value: `<${this.remoteUri}>;tag=${this.id.remoteTag}` },
      { name: 'Call-ID', value: this.id.callId },
      { name: 'CSeq', value: `${seq} ${method}` },
    );
    if (o.contact !== undefined) headers.push({ name: 'Contact', value: o.contact });
    headers.push(...(o.headers ?? []));
    const body = o.body ?? Buffer.alloc(0);
    if (body.length > 0) {
      if (o.contentType === undefined) throw new DialogError('a body needs a contentType');
      headers.push({ name: 'Content-Type', value: o.contentType });
    }
    headers.push({ name: 'Content-Length', value: String(body.length) });
    return { kind: 'request', method, uri: requestUri, version: 'SIP/2.0', headers, body };
  }
}

function requestContact(request: SipRequest): string | undefined {
  const lower = 'contact';
  return request.headers.find((h) => h.name.toLowerCase() === lower)?.value;
}
