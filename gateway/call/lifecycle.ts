// What a Call (browser → trunk/PBX) and an InboundCall (→ a user's contacts) do alike around their
// lifetime: the ring timer, freeing a media session, and the one "call ended" log line.
import type { Logger } from '../log.js';
import type { MediaEngine } from '../media/types.js';
import type { BrowserFinal } from './responses.js';

/** config: "Seconds a call may ring before the gateway gives up (480 / CANCEL)". */
export function startRingTimer(seconds: number, log: Logger, onTimeout: () => void): NodeJS.Timeout {
  return setTimeout(() => {
    log.info({ seconds }, 'ring timeout');
    onTimeout();
  }, seconds * 1000);
}

/** Frees one media session; a failure is only logged (the call is over either way). */
export function deleteMediaSession(media: MediaEngine, key: string, log: Logger): void {
  media.delete(key).catch((err: Error) => log.warn({ err: err.message }, 'media delete failed'));
}

/** An answered call ends with BYE; `final` only reached a caller whose INVITE was still unanswered. */
export function logCallEnded(log: Logger, wasAnswered: boolean, final: BrowserFinal): void {
  log.info(wasAnswered ? { after: 'answer' } : { final: final.status, reason: final.reason }, 'call ended');
}
