// ICE-lite Binding responder (RFC 8445 §2.5, §7.3) and a Binding request builder for tests that
// play the browser's (full, controlling) ICE agent.
import { randomBytes } from 'node:crypto';
import { ATTR, KNOWN_REQUIRED, METHOD_BINDING, TRANSACTION_ID_LENGTH } from './constants.js';
import {
  encodeErrorCode,
  encodeUint32,
  encodeUint64,
  encodeUnknownAttributes,
  encodeXorAddress,
  type TransportAddress,
} from './attributes.js';
import {
  buildStun,
  checkFingerprint,
  getAttribute,
  isStun,
  parseStun,
  verifyMessageIntegrity,
  type StunMessage,
} from './message.js';

export interface IceCredentials {
  localUfrag: string;
  localPwd: string;
  /** When known (from the remote SDP), USERNAME must be exactly "localUfrag:remoteUfrag". */
  remoteUfrag?: string;
}

export interface BindingResult {
  /** Success or error response to send back to `remote`. */
  response: Buffer;
  /** The request carried USE-CANDIDATE (RFC 8445 §7.3.1.5: nominate this pair). */
  useCandidate: boolean;
  /** The request authenticated: the pair is valid and `remote` may be used as the media peer. */
  valid: boolean;
}

function errorResponse(msg: StunMessage, code: number, extra: Buffer | undefined, pwd?: string): Buffer {
  const attributes: Array<{ type: number; value: Buffer }> = [{ type: ATTR.ERROR_CODE, value: encodeErrorCode(code) }];
  if (extra) attributes.push({ type: ATTR.UNKNOWN_ATTRIBUTES, value: extra });
  return buildStun({ cls: 'error', transactionId: msg.transactionId, attributes, integrityKey: pwd, fingerprint: true });
}

/** RFC 8445 §7.2.2: USERNAME is "RFRAG:LFRAG" from the sender's view, i.e. ours first. */
function usernameOk(value: Buffer, creds: IceCredentials): boolean {
  const username = value.toString('utf8');
  if (creds.remoteUfrag !== undefined) return username === `${creds.localUfrag}:${creds.remoteUfrag}`;
  return username.startsWith(`${creds.localUfrag}:`);
}

function unknownRequired(msg: StunMessage): number[] {
  return msg.attributes.filter((a) => a.type < 0x8000 && !KNOWN_REQUIRED.has(a.type)).map((a) => a.type);
}

/**
 * Answer one Binding request as an ICE-lite agent. Returns undefined — nothing to send — for
 * non-STUN, malformed STUN, anything but a Binding request, or a FINGERPRINT that does not match
 * (RFC 5389 §7.3: silently discarded). Otherwise (RFC 5389 §10.1.2 short-term credentials):
 *  - no USERNAME or no MESSAGE-INTEGRITY → 400 (Bad Request);
 *  - USERNAME not "localUfrag:…" or MESSAGE-INTEGRITY not keyed by localPwd → 401 (Unauthorized),
 *    without MESSAGE-INTEGRITY;
 *  - unknown comprehension-required attributes → 420 with UNKNOWN-ATTRIBUTES (§7.3.1);
 *  - else a success response with XOR-MAPPED-ADDRESS of `remote`, MESSAGE-INTEGRITY (localPwd) and
 *    FINGERPRINT (RFC 8445 §7.3.1). A request without FINGERPRINT is accepted.
 * Never throws.
 */
export function handleBindingRequest(
  buf: Buffer,
  remote: TransportAddress,
  creds: IceCredentials,
): BindingResult | undefined {
  if (!isStun(buf)) return undefined;
  const parsed = parseStun(buf);
  if (!parsed.ok) return undefined;
  const msg = parsed.message;
  if (msg.method !== METHOD_BINDING || msg.cls !== 'request') return undefined;
  if (checkFingerprint(msg) === 'invalid') return undefined;
  const reject = (code: number, extra?: Buffer, pwd?: string): BindingResult => ({
    response: errorResponse(msg, code, extra, pwd),
    useCandidate: false,
    valid: false,
  });
  const username = getAttribute(msg, ATTR.USERNAME);
  if (!username || !getAttribute(msg, ATTR.MESSAGE_INTEGRITY)) return reject(400);
  if (!usernameOk(username.value, creds) || !verifyMessageIntegrity(msg, creds.localPwd)) return reject(401);
  const unknown = unknownRequired(msg);
  if (unknown.length > 0) return reject(420, encodeUnknownAttributes(unknown), creds.localPwd);
  let mapped: Buffer;
  try {
    mapped = encodeXorAddress(remote, msg.transactionId);
  } catch {
    return undefined; // our caller handed us a non-IP remote: nothing sensible to answer
  }
  const response = buildStun({
    cls: 'success',
    transactionId: msg.transactionId,
    attributes: [{ type: ATTR.XOR_MAPPED_ADDRESS, value: mapped }],
    integrityKey: creds.localPwd,
    fingerprint: true,
  });
  return { response, useCandidate: getAttribute(msg, ATTR.USE_CANDIDATE) !== undefined, valid: true };
}

export interface BindingRequestOptions {
  /** "remoteUfrag:localUfrag" — the receiver's ufrag first (RFC 8445 §7.2.2). */
  username: string;
  /** The receiver's ICE password (short-term credential). */
  password: string;
  /** PRIORITY (RFC 8445 §7.1.1). Default: a host-candidate priority. */
  priority?: number;
  /** ICE-CONTROLLING tie-breaker; mutually exclusive with `controlled`. */
  controlling?: bigint;
  /** ICE-CONTROLLED tie-breaker. */
  controlled?: bigint;
  /** Adds USE-CANDIDATE (nomination, RFC 8445 §7.1.2). */
  useCandidate?: boolean;
  /** 12 bytes; random by default. */
  transactionId?: Buffer;
  /** Leave out FINGERPRINT (for tests of the responder). */
  noFingerprint?: boolean;
}

/** A Binding request as a browser's ICE agent sends it: USERNAME, PRIORITY, ICE-CONTROLLING /
 *  ICE-CONTROLLED, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT. Its transaction id is bytes 8..19. */
export function buildBindingRequest(o: BindingRequestOptions): Buffer {
  const attributes: Array<{ type: number; value: Buffer }> = [
    { type: ATTR.USERNAME, value: Buffer.from(o.username, 'utf8') },
    { type: ATTR.PRIORITY, value: encodeUint32(o.priority ?? 2130706431) },
  ];
  if (o.controlling !== undefined) attributes.push({ type: ATTR.ICE_CONTROLLING, value: encodeUint64(o.controlling) });
  if (o.controlled !== undefined) attributes.push({ type: ATTR.ICE_CONTROLLED, value: encodeUint64(o.controlled) });
  if (o.useCandidate) attributes.push({ type: ATTR.USE_CANDIDATE, value: Buffer.alloc(0) });
  return buildStun({
    method: METHOD_BINDING,
    cls: 'request',
    transactionId: o.transactionId ?? randomBytes(TRANSACTION_ID_LENGTH),
    attributes,
    integrityKey: o.password,
    fingerprint: !o.noFingerprint,
  });
}
