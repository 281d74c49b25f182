// REFER received inside an INVITE dialog (RFC 3515), the recipient's side: what the request asks for
// (Refer-To, Referred-By, RFC 4488 Refer-Sub), its acceptance (202) and the implicit subscription it
// creates — NOTIFYs with Event: refer;id=<CSeq>, a message/sipfrag body (RFC 3420) carrying the
// progress of the triggered INVITE, the last one with Subscription-State: terminated. What is done with
// the referral (which call to place, which leg it replaces) is the call layer's (call/transfer*.ts).
import { getCSeq, getHeader, getHeaderValues, parseNameAddr, reasonPhrase } from '../message/index.js';
import type { HeaderField, NameAddr, SipRequest, SipResponse } from '../message/types.js';
import type { ClientTransactionHandlers, ServerTransaction } from '../transaction/types.js';
import type { DialogRequestOptions } from './dialog-request.js';
import { parseReplaces, type Replaces } from './replaces.js';
import { reply } from './uas.js';

/** A REFER we cannot act on: the status and reason to answer it with. */
export class ReferError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'ReferError';
  }
}

export interface Referral {
  /** The Refer-To name-addr (its URI's headers, e.g. ?Replaces=, are kept in `target.uri.headers`). */
  target: NameAddr;
  /** RFC 3891 §6.1: the Replaces the Refer-To URI carries (attended transfer). */
  replaces?: Replaces;
  /** RFC 3892: the Referred-By value as received (validated), if any. */
  referredBy?: string;
  /** RFC 4488 §4: false when the referrer asked for no implicit subscription (Refer-Sub: false). */
  subscribe: boolean;
  /** RFC 3515 §2.4.6: the REFER's CSeq number, the id parameter of the Event of its NOTIFYs. */
  id: number;
}

/** The value of the URI header `name` (case-insensitive, RFC 3261 §19.1.1). */
function uriHeader(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

/** RFC 3515 §2.4.1 / RFC 4488 / RFC 3892 / RFC 3891 §6.1: the REFER's request, or a ReferError. */
export function parseRefer(req: SipRequest): Referral {
  // RFC 3515 §2.4.1: "A REFER request MUST contain exactly one Refer-To header field value." (§2.4.2: 400)
  const values = getHeaderValues(req, 'Refer-To');
  if (values.length !== 1) throw new ReferError(400, values.length === 0 ? 'Bad Request: Missing Refer-To' : 'Bad Request: More Than One Refer-To');
  let target: NameAddr;
  try {
    target = parseNameAddr(values[0]!, 'Bad Refer-To');
  } catch (err) {
    throw new ReferError(400, (err as Error).message.slice(0, 100));
  }
  if (!['sip', 'sips', 'tel'].includes(target.uri.scheme)) throw new ReferError(403, 'Forbidden: Refer-To Scheme Not Supported');
  const replacesText = uriHeader(target.uri.headers, 'Replaces');
  let replaces: Replaces | undefined;
  if (replacesText !== undefined) {
    try {
      replaces = parseReplaces(replacesText);
    } catch (err) {
      throw new ReferError(400, `Bad Request: ${(err as Error).message}`.slice(0, 100));
    }
  }
  const referredBy = getHeader(req, 'Referred-By');
  if (referredBy !== undefined) {
    try {
      parseNameAddr(referredBy, 'Bad Referred-By');
    } catch {
      throw new ReferError(400, 'Bad Request: Bad Referred-By');
    }
  }
  // RFC 4488 §4: "Refer-Sub: false" asks the REFER-Recipient not to create the implicit subscription.
  const refSub = getHeader(req, 'Refer-Sub')?.split(';')[0]?.trim().toLowerCase();
  return { target, replaces, referredBy, subscribe: refSub !== 'false', id: getCSeq(req).seq };
}

/** RFC 3515 §2.4.2: "202 (Accepted)" — with RFC 4488 §4's "Refer-Sub: false" when no subscription was
 *  wanted and we honour that (the referrer then gets no NOTIFY). */
export function acceptRefer(tx: ServerTransaction, r: Referral, contact?: string): void {
  const headers: HeaderField[] = [];
  if (!r.subscribe) headers.push({ name: 'Refer-Sub', value: 'false' });
  if (contact) headers.push({ name: 'Contact', value: contact });
  reply(tx, 202, 'Accepted', { headers });
}

/** RFC 3420: a message/sipfrag body holding a status line ("SIP/2.0 200 OK"). */
export function sipfrag(status: number, reason?: string): Buffer {
  const phrase = (reason ?? reasonPhrase(status)).replace(/[\r\n]/g, ' ');
  return Buffer.from(`SIP/2.0 ${status} ${phrase}\r\n`);
}

/** The status line of a message/sipfrag body (the referrer's side, and tests). Throws on anything else. */
export function parseSipfrag(body: Buffer | string): { status: number; reason: string } {
  const line = body.toString().split(/\r?\n/)[0] ?? '';
  const m = /^SIP\/2\.0 ([1-6]\d\d) ?([^\r\n]*)$/.exec(line);
  if (!m) throw new ReferError(400, 'Bad Request: sipfrag status line');
  return { status: Number(m[1]), reason: m[2]! };
}

export const SIPFRAG = 'message/sipfrag;version=2.0';

/** How NOTIFYs go out: in the REFER's dialog (InviteServer / InviteClient sendInDialog). */
export interface NotifySender {
  sendInDialog(method: string, o: DialogRequestOptions, handlers: ClientTransactionHandlers): Promise<SipRequest>;
}

/** RFC 3515 §2.4.4 / RFC 6665 §4.2.2: how long our implicit subscription lasts unless refreshed. */
export const REFER_SUBSCRIPTION_S = 60;

/** The notifier of one accepted REFER: progress() for provisional outcomes, done() for the final one (the
 *  subscription then terminates). With Refer-Sub: false nothing is sent. Resolves once the NOTIFY is
 *  answered (or failed): the caller may then end the dialog. */
export class ReferNotifier {
  private terminated = false;

  constructor(
    private readonly sender: NotifySender,
    private readonly referral: Pick<Referral, 'id' | 'subscribe'>,
    private readonly onAnswer: (res: SipResponse | undefined) => void = () => undefined,
  ) {}

  get active(): boolean {
    return !this.terminated;
  }

  /** RFC 3515 §2.4.5: a 1xx of the triggered request (100 Trying at once: §2.4.5 "the initial NOTIFY"). */
  progress(status: number, reason?: string): Promise<void> {
    if (status >= 200) return this.done(status, reason);
    return this.send(status, reason, `active;expires=${REFER_SUBSCRIPTION_S}`);
  }

  /** The final outcome of the triggered request; the subscription ends (RFC 6665 §4.2.2: reason=noresource). */
  done(status: number, reason?: string): Promise<void> {
    const sent = this.send(status, reason, 'terminated;reason=noresource');
    this.terminated = true;
    return sent;
  }

  private send(status: number, reason: string | undefined, state: string): Promise<void> {
    if (this.terminated || !this.referral.subscribe) return Promise.resolve();
    const headers: HeaderField[] = [
      // RFC 3515 §2.4.6: "the id parameter ... MUST be present" when more than one REFER may be in the dialog
      { name: 'Event', value: `refer;id=${this.referral.id}` },
      { name: 'Subscription-State', value: state },
    ];
    return new Promise((resolve) => {
      const finish = (res?: SipResponse): void => (this.onAnswer(res), resolve());
      this.sender
        .sendInDialog('NOTIFY', { headers, body: sipfrag(status, reason), contentType: SIPFRAG }, {
          onResponse: (res) => res.status >= 200 && finish(res),
          onTimeout: () => finish(),
          onTransportError: () => finish(),
        })
        .catch(() => finish());
    });
  }
}
