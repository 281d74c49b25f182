// The tiny test hook end-to-end tests read through page.evaluate(): window.softphone.
import { rtpCounts } from './media.js';

/**
 * @param {import('./phone.js').Phone} phone
 * @param {import('./media.js').ToneMeter} meter
 */
export function installTestHook(phone, meter) {
  /** Last counts seen on `lastPc`, so a finished (closed) call still reports what it carried. */
  let last = { packetsReceived: 0, packetsSent: 0 };
  /** @type {RTCPeerConnection | null} */
  let lastPc = null;
  const hook = Object.freeze({
    /** Registration state: signed-out | connecting | registering | registered | failed */
    state: () => phone.registration.state,
    /** Why registration failed (empty otherwise). */
    stateReason: () => phone.registration.reason,
    /** Call state: idle | calling | ringing | incoming | in-call | ended */
    callState: () => phone.call.state,
    /** Why the last call ended, e.g. "Busy (486)". */
    callReason: () => (phone.call.state === 'ended' ? phone.call.reason : ''),
    /** Audio RTP packets received and sent by the current (or last) call's peer connection. */
    remoteStats: async () => {
      const pc = phone.peerConnection;
      if (pc !== lastPc) {
        lastPc = pc;
        last = { packetsReceived: 0, packetsSent: 0 };
      }
      if (pc && pc.connectionState !== 'closed') last = await rtpCounts(pc).catch(() => last);
      return last;
    },
    /** How far freqHz stands out in the remote audio's spectrum (≫1: a tone is there). */
    remoteToneLevel: (/** @type {number} */ freqHz) => meter.level(freqHz),
  });
  Object.defineProperty(window, 'softphone', { value: hook, configurable: false, writable: false });
  return hook;
}
