// Liveness of a call's media (issue 7 item 8), B2BUA policy: when the media engine reports a leg whose peer
// sent no RTP and no RTCP for media.inactivityTimeout (on hold: no RTCP), the call is over — a phone that
// lost power or network, a browser tab that froze, a trunk that dropped the call without a BYE — and it
// ends with BYE on both legs, so neither side nor the carrier's billing keeps a dead call up.
import type { Logger } from '../log.js';
import type { MediaEngine, ModifiableMediaEngine } from '../media/types.js';
import type { CallerFinal } from './responses.js';

/** RFC 3326 §2: the Reason of the BYEs. "SIP ;cause=408" (RFC 3261 §21.4.9 Request Timeout: no answer
 *  "within a suitable amount of time") — what rtpengine's and FreeSWITCH's media timeouts report as well
 *  in spirit (MEDIA_TIMEOUT); the text names what timed out. */
export const REASON_MEDIA_TIMEOUT = 'SIP;cause=408;text="Media timeout"';

/** A call still ringing when its early media stops is told 408 as well. */
const MEDIA_TIMEOUT: CallerFinal = { status: 408, reason: 'Request Timeout: Media Timeout' };

/** What liveness needs of a call: its id (the media key, or its prefix for a fork's key "<id>:<n>"). */
export interface LiveCall {
  readonly id: string;
  readonly ended: boolean;
  end(final?: CallerFinal, reason?: string): void;
}

function canWatch(media: MediaEngine): media is ModifiableMediaEngine {
  return typeof (media as Partial<ModifiableMediaEngine>).onInactive === 'function';
}

/** The call a media session key belongs to: the call's own key, or fork n's "<call id>:<n>". */
export function callIdOfMediaKey(key: string): string {
  const at = key.indexOf(':');
  return at < 0 ? key : key.slice(0, at);
}

/** Ends the call of every leg the engine reports inactive; returns the unsubscribe function. Engines
 *  without liveness (a test double) are not watched. */
export function endInactiveCalls(media: MediaEngine, find: (id: string) => LiveCall | undefined, logger: Logger): () => void {
  if (!canWatch(media)) return () => undefined;
  return media.onInactive((key, leg, why) => {
    const call = find(callIdOfMediaKey(key));
    if (!call || call.ended) return;
    logger.info({ call: call.id, leg, why }, 'media inactive: ending the call');
    call.end(MEDIA_TIMEOUT, REASON_MEDIA_TIMEOUT);
  });
}
