// The media engine's DTMF contract (beside MediaEngine, media/types.ts): RFC 4733 events sent toward a
// leg, and RFC 4733 events taken out of a leg's stream and reported. Both engines may implement it;
// the call layer checks with hasDtmf().
import type { MediaEngine } from '../types.js';
import type { ReceivedDtmf } from './receiver.js';

export interface DtmfSendRequest {
  callId: string;
  /** The tag of the leg the events go to. */
  toTag: string;
  /** '0'-'9', '*', '#', 'A'-'D', '16' (flash). */
  signal: string;
  durationMs: number;
  /** RFC 4733 §2.3.4, -dBm0 (0-63). */
  volume?: number;
}

/** sent: the last E packet went out; no-telephone-event: that leg negotiated none (nothing sent);
 *  unsupported: the engine cannot inject (rtpengine without media.rtpengineInjectDtmf). */
export type DtmfSendResult = 'sent' | 'no-telephone-event' | 'unknown-call' | 'unsupported';

export interface DtmfWatchRequest {
  callId: string;
  /** The tag of the leg whose RFC 4733 events are taken (they are no longer relayed to the other leg). */
  fromTag: string;
}

export type { ReceivedDtmf };

export interface DtmfEngine {
  sendDtmf(request: DtmfSendRequest): Promise<DtmfSendResult>;
  /** Takes the RFC 4733 events of a leg out of the relay and reports each one as it ends; returns the
   *  function that stops (the events are relayed again). Absent: the engine cannot (rtpengine). */
  watchDtmf?(request: DtmfWatchRequest, listener: (dtmf: ReceivedDtmf) => void): () => void;
}

export function hasDtmf(engine: MediaEngine): engine is MediaEngine & DtmfEngine {
  return typeof (engine as Partial<DtmfEngine>).sendDtmf === 'function';
}
