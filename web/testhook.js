// The test hook end-to-end tests read through page.evaluate(): window.softphone. These names are a
// stable contract (test/e2e/* and test/e2e/upstream.test.ts use them): add, never rename.
//
//   state(): 'signed-out' | 'connecting' | 'registering' | 'registered' | 'failed'
//   stateReason(): string                      why registration failed ('' otherwise)
//   callState(): 'idle' | 'calling' | 'ringing' | 'incoming' | 'in-call' | 'ended'
//   callReason(): string                       why the last call ended, e.g. "Busy (486)", "Missed call"
//   remoteStats(): Promise<{ packetsReceived, packetsSent }>   audio RTP of the current/last call
//   remoteToneLevel(freqHz): number            ≫ 1 when the remote audio holds a tone at freqHz
//   incoming(): { from, displayName } | null   caller ID while an incoming call rings (or is being accepted)
//   accept(): Promise<void>                    answers the ringing call (as the Accept button does)
//   decline(): Promise<void>                   declines it with 603 (as the Decline button does)
//   incomingState(): 'none' | 'ringing' | 'accepting' | 'answered' | 'declined' | 'missed'
//                    | 'answered-elsewhere' | 'ended'
//   lastIncomingEnd(): 'answered-elsewhere' | 'missed' | 'declined' | 'ended' | null
//                                              how the current incoming call ended (null: none yet / still up)
//   missedCalls(): Array<{ from, displayName, reason }>   newest first; answered-elsewhere is not missed
//   recentCalls(): Array<{ direction: 'in'|'out', from, displayName, outcome, durationMs, reason }>
//   ringing(): boolean                         the ring tone is sounding
//   callStatus(): string                       the call line as shown, e.g. "On hold", "On hold by other party",
//                                              "Reconnecting…", "In call with 1002", "Call ended: Connection lost"
//   holdState(): 'active' | 'holding' | 'held' | 'resuming'   our hold of the established call
//   heldByOther(): boolean                     the other party's last offer holds us (sendonly/inactive/0.0.0.0)
//   linkState(): 'up' | 'reconnecting' | 'restarting'         the established call's connection
//   hold(): Promise<void> / resume(): Promise<void>           as the Hold / Resume button does
//   restartIce(): Promise<boolean>             re-INVITE with an ICE restart; true when the gateway accepted it
//   dropConnection(): boolean                  closes the WebSocket as a lost network would (false: not connected)
// Several lines (call waiting):
//   calls(): Array<{ id, peer, direction, state, hold, current, waiting, label }>   every call (calls.js callViews)
//   swap(id?): Promise<void>                   holds the active call, resumes `id` (else the newest held one)
//   hangupCall(id): Promise<void>              hangs up that call only (its row's Hang up button)
//   lineStats(id): Promise<{ packetsReceived, packetsSent }>   audio RTP of that call's peer connection
//   dnd(): boolean / setDnd(on): void          do-not-disturb (as the toggle does)
//   waitingTone(): boolean                     the call-waiting tone is sounding (not the ring)
// DTMF:
//   infoDtmf(signal, durationMs): Promise<number>  sends a digit of the current call as SIP INFO
//                                              application/dtmf-relay (JsSIP's default); resolves with the
//                                              INFO's final status (0: no call)
import { controlState, dropWebSocket } from './call-control.js';
import { rtpCounts } from './media.js';
import { callLabel } from './reasons.js';
import { INCOMING_ENDS } from './state.js';

/** An INFO with `Signal=…\r\nDuration=…` in `session`'s dialog; the final status of its response.
 * @param {any} session an sip.js Session @param {string} signal @param {number} durationMs @returns {Promise<number>} */
function infoDtmf(session, signal, durationMs) {
  if (!session) return Promise.resolve(0);
  return new Promise((resolve) => {
    const done = (/** @type {any} */ r) => resolve(r.message.statusCode);
    const body = { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: `Signal=${signal}\r\nDuration=${durationMs}\r\n` };
    session.info({ requestDelegate: { onAccept: done, onReject: done }, requestOptions: { body } }).catch(() => resolve(-1));
  });
}

/**
 * @param {import('./phone.js').Phone} phone
 * @param {import('./media.js').ToneMeter} meter
 * @param {import('./ringtone.js').Ringer} ringer
 * @param {import('./ringtone.js').Ringer} waitingTone
 */
export function installTestHook(phone, meter, ringer, waitingTone) {
  /** Last counts seen on `lastPc`, so a finished (closed) call still reports what it carried. */
  let last = { packetsReceived: 0, packetsSent: 0 };
  /** @type {RTCPeerConnection | null} */
  let lastPc = null;
  const hook = Object.freeze({
    state: () => phone.registration.state,
    stateReason: () => phone.registration.reason,
    callState: () => phone.call.state,
    callReason: () => (phone.call.state === 'ended' ? phone.call.reason : ''),
    remoteStats: async () => {
      const pc = /** @type {RTCPeerConnection | null} */ (phone.peerConnection);
      if (pc !== lastPc) {
        lastPc = pc;
        last = { packetsReceived: 0, packetsSent: 0 };
      }
      if (pc && pc.connectionState !== 'closed') last = await rtpCounts(pc).catch(() => last);
      return last;
    },
    remoteToneLevel: (/** @type {number} */ freqHz) => meter.level(freqHz),
    incoming: () => {
      const s = phone.incoming.state;
      if ((s !== 'ringing' && s !== 'accepting') || !phone.callerId) return null;
      return { from: phone.callerId.number, displayName: phone.callerId.displayName };
    },
    accept: () => phone.accept(),
    decline: () => phone.decline(),
    incomingState: () => phone.incoming.state,
    lastIncomingEnd: () => {
      const s = /** @type {any} */ (phone.incoming.state);
      return INCOMING_ENDS.includes(s) ? s : null;
    },
    missedCalls: () => phone.history.missed().map((r) => ({ from: r.number, displayName: r.displayName, reason: r.reason })),
    recentCalls: () => phone.history.recent().map((r) => ({
      direction: r.direction, from: r.number, displayName: r.displayName, outcome: r.outcome, durationMs: r.durationMs, reason: r.reason,
    })),
    ringing: () => ringer.playing,
    callStatus: () => callLabel(phone.call.state, phone.call.reason, phone.peer, controlState(phone.control)),
    holdState: () => controlState(phone.control).hold,
    heldByOther: () => controlState(phone.control).remoteHold,
    linkState: () => controlState(phone.control).link,
    hold: () => phone.setHold(true),
    resume: () => phone.setHold(false),
    restartIce: () => phone.restartIce(),
    dropConnection: () => dropWebSocket(phone.ua),
    calls: () => phone.calls(),
    swap: (/** @type {number | undefined} */ id) => phone.swap(id),
    hangupCall: (/** @type {number} */ id) => phone.hangup(id),
    lineStats: (/** @type {number} */ id) => rtpCounts(/** @type {any} */ (phone.lines.get(id)?.peerConnection ?? null)),
    dnd: () => phone.dnd,
    setDnd: (/** @type {boolean} */ on) => phone.setDnd(on),
    waitingTone: () => waitingTone.playing,
    infoDtmf: (/** @type {string} */ signal, /** @type {number} */ durationMs) => infoDtmf(phone.lines.current?.session, signal, durationMs),
  });
  Object.defineProperty(window, 'softphone', { value: hook, configurable: false, writable: false });
  return hook;
}
