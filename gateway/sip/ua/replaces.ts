// The Replaces header (RFC 3891): which dialog a new INVITE takes over, and the recipient's rules for
// whether it may (§3). Pure: the call layer looks the dialog up and does the replacing (call/transfer*.ts).
//   Replaces = "Replaces" HCOLON callid *(SEMI replaces-param)
//   replaces-param = to-tag / from-tag / early-flag / generic-param
import { getHeaderValues, parseParams } from '../message/index.js';
import type { SipRequest } from '../message/types.js';
import type { DialogId } from '../dialog/index.js';

export interface Replaces {
  callId: string;
  /** The tag of the UA receiving the INVITE with Replaces (our local tag in the matched dialog). */
  toTag: string;
  /** The tag of the other end of the replaced dialog (our remote tag). */
  fromTag: string;
  /** §6.1 early-flag: replace only an early dialog. */
  earlyOnly: boolean;
}

export class ReplacesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplacesError';
  }
}

/** RFC 3261 §25.1 callid = word [ "@" word ]. */
const CALL_ID = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/;

/** Parses a Replaces value; ReplacesError for anything §6.1 does not allow (to-tag and from-tag are
 *  both mandatory). */
export function parseReplaces(text: string): Replaces {
  const semi = text.indexOf(';');
  const callId = (semi < 0 ? text : text.slice(0, semi)).trim();
  if (!CALL_ID.test(callId)) throw new ReplacesError('Replaces: bad Call-ID');
  let params;
  try {
    params = parseParams(semi < 0 ? '' : text.slice(semi));
  } catch {
    throw new ReplacesError('Replaces: bad parameters');
  }
  const toTag = params['to-tag'];
  const fromTag = params['from-tag'];
  if (!toTag || !fromTag) throw new ReplacesError('Replaces: to-tag and from-tag are required');
  return { callId, toTag, fromTag, earlyOnly: 'early-only' in params };
}

export function formatReplaces(r: Replaces): string {
  return `${r.callId};to-tag=${r.toTag};from-tag=${r.fromTag}${r.earlyOnly ? ';early-only' : ''}`;
}

/** The dialog a Replaces names, as the recipient's dialog ID (RFC 3891 §3: "the to-tag ... matches the
 *  local tag and the from-tag ... the remote tag"). */
export function replacedDialogId(r: Replaces): DialogId {
  return { callId: r.callId, localTag: r.toTag, remoteTag: r.fromTag };
}

/** The Replaces of an INVITE: undefined without one; ReplacesError for more than one (§3: 400) or a bad one. */
export function replacesOf(req: SipRequest): Replaces | undefined {
  const values = getHeaderValues(req, 'Replaces');
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new ReplacesError('more than one Replaces header field');
  return parseReplaces(values[0]!);
}

/** How the matched dialog stands, as §3 distinguishes it. */
export type ReplacedState =
  | { kind: 'none' }
  | { kind: 'terminated' }
  /** An early dialog: `ours` when we sent its INVITE (we are its UAC). */
  | { kind: 'early'; ours: boolean }
  | { kind: 'confirmed' };

/** RFC 3891 §3: the recipient's verdict. undefined = go ahead and replace. */
export function replacesVerdict(r: Pick<Replaces, 'earlyOnly'>, state: ReplacedState): { status: number; reason: string } | undefined {
  switch (state.kind) {
    case 'none':
      // "If no match is found, the UAS rejects the INVITE and returns a 481 Call/Transaction Does Not Exist"
      return { status: 481, reason: 'Call/Transaction Does Not Exist' };
    case 'terminated':
      // "If the Replaces header field matches a dialog which has already terminated, the UA SHOULD decline
      // the request with a 603 Declined response."
      return { status: 603, reason: 'Declined' };
    case 'early':
      // "If the Replaces header field matches an early dialog that was not initiated by this UA, it returns
      // a 481". One we initiated could be replaced (CANCEL it); this B2BUA replaces confirmed dialogs only.
      return { status: 481, reason: 'Call/Transaction Does Not Exist' };
    case 'confirmed':
      // "If the Replaces header field matches a confirmed dialog, it checks for the presence of the
      // "early-only" flag ... If the flag is present, the UA rejects the request with a 486 Busy."
      return r.earlyOnly ? { status: 486, reason: 'Busy Here' } : undefined;
  }
}
