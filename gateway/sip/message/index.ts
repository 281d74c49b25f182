// The SIP message layer: parse, validate, inspect, build and serialize SIP messages (RFC 3261 §7, §25).
export * from './types.js';
export { parseMessage, type ParseOptions } from './parser.js';
export { validateRequest, validateResponse, checkUriScheme, type ValidateOptions } from './validate.js';
export { serializeMessage, type SerializeOptions } from './serializer.js';
export { StreamFramer, FramingError, MAX_HEADER_BYTES, type FramerState } from './framing.js';
export { parseUri, formatUri } from './uri.js';
export { parseNameAddr, formatNameAddr } from './name-addr.js';
export { parseVia, formatVia } from './via.js';
export {
  parseCSeq,
  formatCSeq,
  parseCallId,
  parseMaxForwards,
  parseContentLength,
  parseExpires,
  checkDate,
  MAX_BODY,
} from './scalars.js';
export { parseParams, formatParams, type Params } from './params.js';
export { unquote, quote } from './scanner.js';
export { canonicalName, compactName, isListHeader } from './header-names.js';
export {
  splitList,
  getFields,
  getHeader,
  getHeaderValues,
  hasHeader,
  setHeader,
  addHeader,
  removeHeader,
  getVias,
  getTopVia,
  getFrom,
  getTo,
  getCallId,
  getCSeq,
  getContacts,
  getMaxForwards,
  getExpires,
} from './headers.js';
export {
  createResponse,
  createResponseFromPartial,
  reasonPhrase,
  REASON_PHRASES,
  newBranch,
  newTag,
  newCallId,
  requestOf,
  type ResponseOptions,
} from './build.js';
