// Changes to an established call made from the page, all by re-INVITE of the same dialog (RFC 3261 §14):
// hold / resume (RFC 3264 §8.4 directions, set by sip.js on the transceivers through its `hold` option),
// ICE restart (RFC 8445 §9: a new offer with new ICE credentials) after a network change or a failed ICE
// state, and carrying the call over a lost WebSocket (RFC 5626 §4.4.1: a new flow, then the SAME session
// re-INVITEs with an ICE restart). Also reads the other party's hold from its offers. Duck-typed sip.js
// Session (no sip.js import): unit-tested through test/unit/web with a scripted session.
import { errorText, statusReason } from './reasons.js';
import { isRemoteHold, SdpParseError } from './sdp-direction.js';
import { createHoldMachine, createLinkMachine } from './state.js';

/** Session description handler options of every offer and answer of the call: audio only. */
export const AUDIO_ONLY = Object.freeze({ constraints: { audio: true, video: false } });

/** @typedef {{ ok: boolean, code: number, reason: string }} Outcome */

/**
 * RFC 3261 §14.1: after a 491 the UAC waits T and tries again: "If the UAC is the owner of the Call-ID
 * of the dialog ID (meaning it generated the value), T has a randomly chosen value between 2.1 and 4
 * seconds in units of 10 ms. If the UAC is not the owner ..., T has a randomly chosen value of between
 * 0 and 2 seconds in units of 10 ms."
 * @param {boolean} callIdOwner @param {() => number} [random] in [0, 1)
 */
export function glareDelayMs(callIdOwner, random = Math.random) {
  const [low, high] = callIdOwner ? [210, 400] : [0, 200];
  return 10 * (low + Math.min(high - low, Math.floor(random() * (high - low + 1))));
}

/**
 * sip.js 0.21's web session description handler lacks the optional rollbackDescription() that
 * Session.rollbackOffer() calls when a re-INVITE is rejected (RFC 3261 §14.1: "the session parameters
 * MUST remain unchanged"): without it the peer connection stays in have-local-offer and every later
 * offer or answer of the call fails. JSEP (RFC 8829 §4.1.10.2, W3C webrtc §4.4.1.5): a rollback
 * description returns the peer connection to the last stable state.
 * @param {any} sdh
 */
export function addRollback(sdh) {
  if (!sdh || typeof sdh.rollbackDescription === 'function') return;
  sdh.rollbackDescription = async () => {
    const pc = sdh.peerConnection;
    if (pc && (pc.signalingState === 'have-local-offer' || pc.signalingState === 'have-remote-offer')) {
      await pc.setLocalDescription({ type: 'rollback' });
    }
  };
}

export class CallControl {
  /**
   * @param {any} session an established sip.js Session
   * @param {{ callIdOwner: boolean, recoveryMs: number, onChange: () => void, onLost: (why: string) => void,
   *           random?: () => number }} opts
   */
  constructor(session, opts) {
    this.session = session;
    this.opts = opts;
    this.hold = createHoldMachine(() => opts.onChange());
    this.link = createLinkMachine(() => opts.onChange());
    /** The other party's last offer put us on hold (sendonly, inactive or c=0.0.0.0). */
    this.remoteHold = false;
    /** A short message about the last change that failed ('' if none). */
    this.message = '';
    this.ended = false;
    /** Counts lost connections: the outcome of a re-INVITE sent before the latest one is stale. */
    this.drops = 0;
    /** @type {((o: Outcome) => void) | null} */ this.waiter = null;
    /** @type {(() => void) | null} */ this.wake = null;
    this.glareTimer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined);
    this.recoveryTimer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined);
    /** One re-INVITE at a time (sip.js refuses a second one while the first is pending). */
    this.queue = Promise.resolve();
    this.#persist(false);
    addRollback(session.sessionDescriptionHandler);
    const pc = session.sessionDescriptionHandler?.peerConnection;
    // A path that died for good (disconnected → failed) only comes back with an ICE restart.
    pc?.addEventListener?.('iceconnectionstatechange', () => {
      if (pc.iceConnectionState === 'failed') void this.restartIce();
    });
  }

  /** True while the call is being carried over to a new connection. */
  get recovering() {
    return this.link.state !== 'up';
  }

  /** Puts the call on hold (`on`) or resumes it; a rejected re-INVITE leaves it as it was. @param {boolean} on */
  async setHold(on) {
    const [from, via, to] = on ? ['active', 'holding', 'held'] : ['held', 'resuming', 'active'];
    if (this.ended || this.hold.state !== from || this.link.state !== 'up') {
      throw new Error(on ? 'Cannot hold the call now' : 'Cannot resume the call now');
    }
    this.message = '';
    this.hold.transition(/** @type {any} */ (via));
    const outcome = await this.#serial(() => this.#reinvite({ hold: on, iceRestart: false }));
    if (this.ended) return;
    if (!outcome.ok) this.message = `${on ? 'Hold' : 'Resume'} failed: ${outcome.reason}`;
    const held = outcome.ok ? on : !on;
    this.#persist(held);
    if (outcome.ok) this.#enableTracks(!on);
    this.hold.transition(/** @type {any} */ (outcome.ok ? to : from), outcome.reason);
  }

  /** Re-INVITEs with an ICE restart (network change, ICE failed). False when not done or not accepted. */
  async restartIce() {
    if (this.ended || this.link.state !== 'up') return false; // a reconnection restarts ICE itself
    this.message = '';
    this.link.transition('restarting');
    const drops = this.drops;
    const outcome = await this.#serial(() => this.#reinvite({ hold: this.#held(), iceRestart: true }));
    return this.#restarted(outcome, false, drops);
  }

  /** The WebSocket dropped: the call stays, and ends if no new connection carries it within recoveryMs. */
  transportLost() {
    if (this.ended) return;
    this.drops++;
    if (this.link.state !== 'reconnecting') this.link.transition('reconnecting');
    this.recoveryTimer ??= setTimeout(() => this.#lose('not reconnected in time'), this.opts.recoveryMs);
  }

  /** Registered again over a new connection: re-INVITE the same session with an ICE restart. */
  async transportBack() {
    if (this.ended || this.link.state !== 'reconnecting') return false;
    this.link.transition('restarting');
    const drops = this.drops;
    const outcome = await this.#serial(() => this.#reinvite({ hold: this.#held(), iceRestart: true }));
    return this.#restarted(outcome, true, drops);
  }

  /**
   * The body of a re-INVITE we accepted: an offer (or none: then our offer went in the 200 and this
   * changes nothing). Its direction says whether the other party holds us.
   * @param {string} sdp
   */
  remoteOffer(sdp) {
    if (this.ended || !sdp) return;
    let held = this.remoteHold;
    try {
      held = isRemoteHold(sdp);
    } catch (err) {
      if (!(err instanceof SdpParseError)) throw err;
      console.warn(`softphone: unreadable offer in re-INVITE (${err.message}); hold state unchanged`);
    }
    if (held === this.remoteHold) return;
    this.remoteHold = held;
    this.opts.onChange();
  }

  /** The session ended: stop every timer, release whoever waits. */
  dispose() {
    this.ended = true;
    clearTimeout(this.glareTimer);
    clearTimeout(this.recoveryTimer);
    this.wake?.();
    this.waiter?.({ ok: false, code: 0, reason: 'Call ended' });
  }

  /** @param {Outcome} outcome @param {boolean} recovering @param {number} drops `this.drops` when it was sent */
  #restarted(outcome, recovering, drops) {
    if (this.ended || drops !== this.drops || this.link.state !== 'restarting') return false; // dropped meanwhile
    if (outcome.ok) {
      clearTimeout(this.recoveryTimer);
      this.recoveryTimer = undefined;
      this.link.transition('up');
      return true;
    }
    // RFC 3261 §12.2.1.2: a 481 or 408 to a request inside a dialog ends the dialog. After a lost
    // connection any failure does: the media path is gone with the old connection.
    if (recovering || outcome.code === 481 || outcome.code === 408) this.#lose(outcome.reason);
    else {
      this.message = `Reconnect failed: ${outcome.reason}`;
      this.link.transition('up');
    }
    return false;
  }

  /** @param {string} why */
  #lose(why) {
    if (this.ended) return;
    this.dispose();
    this.opts.onLost(why);
  }

  #held() {
    return this.hold.state === 'held' || this.hold.state === 'resuming';
  }

  /**
   * Session.invite(options) keeps its options for every later re-INVITE, sent or answered: put back the
   * plain ones (no ICE restart) with the hold that is in force, so answers to the other party keep it.
   * @param {boolean} held
   */
  #persist(held) {
    this.session.sessionDescriptionHandlerOptionsReInvite = { ...AUDIO_ONLY, hold: held };
  }

  /** As sip.js's own SessionManager does on hold: no sound either way. @param {boolean} on */
  #enableTracks(on) {
    const sdh = this.session.sessionDescriptionHandler;
    try {
      sdh?.enableSenderTracks?.(on);
      sdh?.enableReceiverTracks?.(on);
    } catch {
      // the peer connection closed meanwhile: nothing to enable
    }
  }

  /** @template T @param {() => Promise<T>} fn @returns {Promise<T>} */
  #serial(fn) {
    const run = this.queue.then(fn);
    this.queue = run.then(() => undefined, () => undefined);
    return run;
  }

  /** One re-INVITE, retried once after a 491 (RFC 3261 §14.1). @param {{ hold: boolean, iceRestart: boolean }} what */
  async #reinvite(what) {
    let outcome = await this.#inviteOnce(what);
    if (outcome.code === 491 && !this.ended) {
      await new Promise((resolve) => {
        this.wake = () => resolve(undefined);
        this.glareTimer = setTimeout(this.wake, glareDelayMs(this.opts.callIdOwner, this.opts.random));
      });
      this.wake = null;
      if (!this.ended) outcome = await this.#inviteOnce(what);
    }
    if (!this.ended) this.#persist(this.#held());
    return outcome;
  }

  /** @param {{ hold: boolean, iceRestart: boolean }} what @returns {Promise<Outcome>} */
  #inviteOnce({ hold, iceRestart }) {
    if (this.ended) return Promise.resolve({ ok: false, code: 0, reason: 'Call ended' });
    const sessionDescriptionHandlerOptions = iceRestart
      ? { ...AUDIO_ONLY, hold, offerOptions: { iceRestart: true } }
      : { ...AUDIO_ONLY, hold };
    return new Promise((resolve) => {
      const done = (/** @type {Outcome} */ o) => {
        if (this.waiter === done) this.waiter = null;
        resolve(o);
      };
      this.waiter = done;
      const requestDelegate = {
        onAccept: () => done({ ok: true, code: 200, reason: '' }),
        onReject: (/** @type {any} */ r) =>
          done({ ok: false, code: r.message.statusCode, reason: statusReason(r.message.statusCode, r.message.reasonPhrase) }),
      };
      Promise.resolve()
        .then(() => this.session.invite({ sessionDescriptionHandlerOptions, requestDelegate }))
        .catch((/** @type {unknown} */ err) => done({ ok: false, code: 0, reason: errorText(err) }));
    });
  }
}

/**
 * What the call line shows besides the call state: our hold, the other party's, the connection, and
 * the last failure's message (defaults when there is no established call).
 * @param {CallControl | null} c
 */
export function controlState(c) {
  return { hold: c?.hold.state ?? 'active', remoteHold: c?.remoteHold ?? false, link: c?.link.state ?? 'up', message: c?.message ?? '' };
}

/**
 * For tests: closes a sip.js UserAgent's WebSocket the way a lost network does (sip.js did not ask for
 * it, so it reports a disconnect with an error and the page reconnects). False when not connected.
 * @param {any} ua
 */
export function dropWebSocket(ua) {
  const ws = ua?.transport?.ws;
  if (!ws) return false;
  ws.close(4000, 'connection dropped'); // RFC 6455 §7.4.2: codes 4000-4999 are the application's
  return true;
}
