// RFC 5389/8489 STUN, just enough for an RFC 8445 ICE-lite agent.
export { handleBindingRequest, buildBindingRequest, type BindingResult, type BindingRequestOptions, type IceCredentials } from './ice.js';
export {
  isStun,
  parseStun,
  buildStun,
  getAttribute,
  verifyMessageIntegrity,
  checkFingerprint,
  computeFingerprint,
  encodeMessageType,
  type StunMessage,
  type StunAttribute,
  type StunParseResult,
  type StunBuildOptions,
} from './message.js';
export {
  encodeXorAddress,
  decodeXorAddress,
  encodeErrorCode,
  decodeErrorCode,
  encodeUint32,
  encodeUint64,
  type TransportAddress,
  type AddressFamily,
} from './attributes.js';
export { ATTR, MAGIC_COOKIE, METHOD_ALLOCATE, METHOD_BINDING, METHOD_CREATE_PERMISSION, type StunClass } from './constants.js';
