// What the engine checks of a request before acting on it (engine.ts): non-empty keys and tags, an SDP
// that parses and carries what its profile needs.
import { MediaError } from '../types.js';
import { parseAudioSdp, requireWebrtcAttributes, type AudioDescription } from './model.js';

export function requireText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new MediaError('bad-sdp', `${what} must be a non-empty string`);
  return value;
}

/** Parse an SDP and insist on what its profile needs. */
export function parseFor(sdp: unknown): AudioDescription {
  const desc = parseAudioSdp(requireText(sdp, 'sdp'));
  if (desc.profile === 'webrtc') requireWebrtcAttributes(desc);
  return desc;
}
