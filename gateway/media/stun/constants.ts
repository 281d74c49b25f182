// RFC 5389 / RFC 8489 STUN and RFC 8445 ICE constants.

/** RFC 5389 §6: "The magic cookie field MUST contain the fixed value 0x2112A442". */
export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_LENGTH = 20;
export const TRANSACTION_ID_LENGTH = 12;

export const METHOD_BINDING = 0x001;
/** RFC 8656 §17 (TURN) Allocate and CreatePermission: the gateway itself is no TURN client; tests
 *  against coturn are. */
export const METHOD_ALLOCATE = 0x003;
export const METHOD_CREATE_PERMISSION = 0x008;

export type StunClass = 'request' | 'indication' | 'success' | 'error';
export const CLASS_BITS: Readonly<Record<StunClass, number>> = { request: 0, indication: 1, success: 2, error: 3 };
export const CLASS_NAMES: readonly StunClass[] = ['request', 'indication', 'success', 'error'];

/** Attribute types (RFC 5389 §18.2, RFC 8445 §16.1, RFC 8656 §18 TURN). */
export const ATTR = {
  MAPPED_ADDRESS: 0x0001,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  LIFETIME: 0x000d,
  XOR_PEER_ADDRESS: 0x0012,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_TRANSPORT: 0x0019,
  MESSAGE_INTEGRITY_SHA256: 0x001c,
  PASSWORD_ALGORITHM: 0x001d,
  USERHASH: 0x001e,
  XOR_MAPPED_ADDRESS: 0x0020,
  PRIORITY: 0x0024,
  USE_CANDIDATE: 0x0025,
  SOFTWARE: 0x8022,
  ALTERNATE_SERVER: 0x8023,
  FINGERPRINT: 0x8028,
  ICE_CONTROLLED: 0x8029,
  ICE_CONTROLLING: 0x802a,
} as const;

/** Comprehension-required attributes (type < 0x8000, RFC 5389 §15) this agent (ICE-lite, no TURN) understands. */
export const KNOWN_REQUIRED: ReadonlySet<number> = new Set([
  ATTR.MAPPED_ADDRESS,
  ATTR.USERNAME,
  ATTR.MESSAGE_INTEGRITY,
  ATTR.ERROR_CODE,
  ATTR.UNKNOWN_ATTRIBUTES,
  ATTR.REALM,
  ATTR.NONCE,
  ATTR.MESSAGE_INTEGRITY_SHA256,
  ATTR.PASSWORD_ALGORITHM,
  ATTR.USERHASH,
  ATTR.XOR_MAPPED_ADDRESS,
  ATTR.PRIORITY,
  ATTR.USE_CANDIDATE,
]);

/** RFC 5389 §15.5: "XOR'ed with the 32-bit value 0x5354554e". */
export const FINGERPRINT_XOR = 0x5354554e;

export const ERROR_REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  420: 'Unknown Attribute',
  487: 'Role Conflict',
  500: 'Server Error',
};
