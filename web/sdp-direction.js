// A tiny typed reader of the media direction of an SDP (RFC 4566 / RFC 3264), for the page only: the page
// has no SDP library (sip.js parses none) and must not test SDP text with includes()/regex. It reads the
// session description line by line ("<type>=<value>", RFC 4566 §5), splits it into media sections at each
// "m=" line and resolves each section's direction and connection address. Pure module: unit-tested.

/** @typedef {'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'} Direction */
/** @typedef {{ media: string, port: number, direction: Direction, address: string }} MediaDirection */

/** The only error this reader throws. */
export class SdpParseError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(`SDP: ${message}`);
    this.name = 'SdpParseError';
  }
}

/** RFC 3264 §5.1 / RFC 4566 §6: the four direction attributes (property attributes, no value). */
const DIRECTIONS = Object.freeze(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** @param {string} value @returns {Direction | null} */
function directionOf(value) {
  return /** @type {Direction | null} */ (DIRECTIONS.includes(value) ? value : null);
}

/**
 * RFC 4566 §5.7: "c=<nettype> <addrtype> <connection-address>"; the address without a multicast /ttl suffix.
 * @param {string} value @param {number} lineNo
 */
function connectionAddress(value, lineNo) {
  const parts = value.split(' ');
  if (parts.length !== 3 || parts.some((p) => p === '')) throw new SdpParseError(`line ${lineNo}: bad c= line`);
  return /** @type {string} */ (parts[2]).split('/')[0] ?? '';
}

/**
 * RFC 4566 §5.14: "m=<media> <port>[/<number of ports>] <proto> <fmt> ...".
 * @param {string} value @param {number} lineNo
 */
function mediaLine(value, lineNo) {
  const parts = value.split(' ');
  const [media = '', portText = ''] = parts;
  const port = Number(portText.split('/')[0]);
  if (parts.length < 4 || media === '' || !/^\d{1,5}$/.test(portText.split('/')[0] ?? '') || port > 65535) {
    throw new SdpParseError(`line ${lineNo}: bad m= line`);
  }
  return { media, port };
}

/**
 * Every media section of `sdp` with its effective direction (its own a= direction, else the session-level
 * one, else sendrecv: RFC 3264 §5.1) and connection address (its own c=, else the session's: RFC 4566 §5.7).
 * Throws SdpParseError (and nothing else) on text that is not a session description.
 * @param {string} sdp @returns {MediaDirection[]}
 */
export function mediaDirections(sdp) {
  if (typeof sdp !== 'string') throw new SdpParseError('not text');
  const lines = sdp.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== 'v=0') throw new SdpParseError('line 1: expected v=0');
  /** @type {{ direction: Direction | null, address: string }} */
  const session = { direction: null, address: '' };
  /** @type {Array<{ media: string, port: number, direction: Direction | null, address: string }>} */
  const sections = [];
  lines.forEach((line, i) => {
    const type = line[0];
    if (line.length < 2 || line[1] !== '=' || !type || type < 'a' || type > 'z') {
      throw new SdpParseError(`line ${i + 1}: expected <type>=<value>`);
    }
    const value = line.slice(2);
    const current = sections[sections.length - 1] ?? session;
    if (type === 'm') sections.push({ ...mediaLine(value, i + 1), direction: null, address: '' });
    else if (type === 'c') current.address = connectionAddress(value, i + 1);
    else if (type === 'a') current.direction = directionOf(value) ?? current.direction;
  });
  return sections.map((s) => ({
    media: s.media,
    port: s.port,
    direction: s.direction ?? session.direction ?? 'sendrecv',
    address: s.address || session.address,
  }));
}

/**
 * Does this offer from the other party put us on hold? RFC 3264 §8.4: a stream is held by marking it
 * sendonly (or inactive, if it was recvonly); RFC 3264 §8.4 also names the older RFC 2543 way, c=0.0.0.0.
 * True when the offer has at least one audio stream in use (port ≠ 0, RFC 3264 §8.2) and every such
 * stream is sendonly, inactive or at 0.0.0.0.
 * @param {string} sdp
 */
export function isRemoteHold(sdp) {
  const audio = mediaDirections(sdp).filter((m) => m.media === 'audio' && m.port !== 0);
  const held = (/** @type {MediaDirection} */ m) =>
    m.direction === 'sendonly' || m.direction === 'inactive' || m.address === '0.0.0.0';
  return audio.length > 0 && audio.every(held);
}
