// The few header reads the dialog layer needs, in dialog terms, on top of the shared message helpers.
// Every parse failure becomes a DialogError whose reason names the fault.
import { formatUri, getCallId, getContacts, getCSeq, getFrom, getHeaderValues, getTo, parseNameAddr } from '../message/index.js';
import type { SipMessage } from '../message/types.js';

/** A message lacks what a dialog needs; `reason` names the fault (fit for a 400 reason phrase). */
export class DialogError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DialogError';
  }
}

export interface AddressRef {
  /** The URI text, without angle brackets. */
  uri: string;
  tag?: string;
}

function guard<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof DialogError) throw e;
    throw new DialogError(e instanceof Error ? e.message : String(e));
  }
}

export function readAddress(msg: SipMessage, name: 'From' | 'To'): AddressRef {
  const na = guard(() => (name === 'From' ? getFrom(msg) : getTo(msg)));
  const tag = na.params.tag;
  return tag ? { uri: formatUri(na.uri), tag } : { uri: formatUri(na.uri) };
}

export function readCallId(msg: SipMessage): string {
  return guard(() => getCallId(msg));
}

export function readCSeq(msg: SipMessage): { seq: number; method: string } {
  return guard(() => getCSeq(msg));
}

/** The URI of the first Contact, or undefined when there is none. */
export function readContactUri(msg: SipMessage): string | undefined {
  const contacts = guard(() => getContacts(msg));
  if (contacts === '*') throw new DialogError('Contact: * cannot be a remote target');
  const first = contacts[0];
  return first === undefined ? undefined : formatUri(first.uri);
}

/** Record-Route values in message order, as written (each one a name-addr to copy into Route). */
export function readRecordRoutes(msg: SipMessage): string[] {
  const values = getHeaderValues(msg, 'Record-Route');
  for (const v of values) guard(() => parseNameAddr(v, 'Bad Record-Route')); // validate now, not when used
  return values;
}

/** A Route value's URI, and whether it is a loose router (RFC 3261 §19.1.1 "lr" uri-parameter). */
export function routeInfo(route: string): { uri: string; loose: boolean } {
  const na = guard(() => parseNameAddr(route, 'Bad Route'));
  return { uri: formatUri(na.uri), loose: na.uri.params.lr !== undefined };
}
