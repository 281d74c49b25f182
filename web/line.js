// One call of the page (a line): one sip.js session (Inviter or Invitation) from its INVITE to its end,
// with its own call and incoming-call machines and, once established, its CallControl (hold, ICE
// restart, reconnection). Phone (phone.js) holds several of them (calls.js). No DOM here.
import { SessionState } from 'sip.js';
import { AUDIO_ONLY, CallControl, controlState } from './call-control.js';
import { cancelOutcome } from './callerid.js';
import { sessionRecord } from './history.js';
import { INCOMING_END_TEXT, headerValues, incomingEnd } from './incoming.js';
import { END_REASONS, errorText, statusReason } from './reasons.js';
import { createCallMachine, createIncomingMachine } from './state.js';

/** What a line tells its phone. */
/** @typedef {{ onCall(line: Line, c: any): void, onIncoming(line: Line, c: any): void, onControl(line: Line): void,
 *              onEstablished(line: Line): void, onEnded(line: Line, record: any): void }} LineEvents */

let nextId = 1;

export class Line {
  /**
   * @param {any} session an sip.js Inviter or Invitation
   * @param {{ direction: 'in' | 'out', peer: string, callerId?: { number: string, displayName: string } | null,
   *           recoveryMs: number }} opts
   * @param {LineEvents} events
   */
  constructor(session, opts, events) {
    this.id = nextId++;
    this.session = session;
    this.direction = opts.direction;
    this.peer = opts.peer;
    this.callerId = opts.callerId ?? null;
    this.recoveryMs = opts.recoveryMs;
    this.events = events;
    this.call = createCallMachine((/** @type {any} */ c) => events.onCall(this, c));
    this.incoming = createIncomingMachine((/** @type {any} */ c) => events.onIncoming(this, c));
    /** @type {CallControl | null} */ this.control = null;
    /** @type {MediaStream | null} */ this.remoteStream = null;
    /** @type {RTCPeerConnection | null} */ this.peerConnection = null;
    this.startedAt = Date.now();
    this.answeredAt = 0;
    /** Set when a CANCEL ended the incoming call. @type {{ outcome: 'answered-elsewhere' | 'missed', text: string } | null} */
    this.cancelled = null;
    /** Why the session ended, decided by whoever learns it first. */
    this.endReason = '';
    /** The final response of a call that failed (null: it did not end on a response). @type {{ code: number, phrase: string } | null} */
    this.endStatus = null;
    /** Set by web/transfer.js when a transfer of this call succeeded: why the gateway's BYE ends it. */
    this.transferred = '';
    this.ended = false;
    this.#follow(session);
  }

  /** Applies `to` if the edge is legal; sip.js callbacks can race (a BYE while we cancel): an illegal
   *  edge is logged and ignored rather than thrown into sip.js. @param {any} machine @param {string} to @param {string} [reason] */
  move(machine, to, reason = '') {
    if (!machine.can(to)) {
      console.warn(`softphone: ignoring ${machine.state} -> ${to} (${reason})`);
      return false;
    }
    machine.transition(to, reason);
    return true;
  }

  /** An outgoing call: the INVITE, its provisional and final responses. */
  async invite() {
    this.call.transition('calling', this.peer);
    const requestDelegate = {
      onProgress: (/** @type {any} */ r) => {
        const code = r.message.statusCode;
        if ((code === 180 || code === 183) && this.call.state === 'calling') this.move(this.call, 'ringing');
      },
      onReject: (/** @type {any} */ r) => {
        this.endReason = statusReason(r.message.statusCode, r.message.reasonPhrase);
        /** The final response that ended the call (words.js shows it in people's words). */
        this.endStatus = { code: r.message.statusCode, phrase: String(r.message.reasonPhrase ?? '') };
      },
    };
    await this.session.invite({ requestDelegate }).catch((/** @type {unknown} */ err) => {
      this.endReason = `${END_REASONS.mediaFailed}: ${errorText(err)}`;
    });
  }

  /** An incoming call starts ringing. */
  ring() {
    this.incoming.transition('ringing', this.peer);
    this.call.transition('incoming', this.peer);
  }

  /** Hangs up, cancels or declines, whichever the call state calls for. */
  async hangup() {
    switch (this.call.state) {
      case 'calling':
      case 'ringing':
        this.endReason = END_REASONS.cancelled;
        return void (await this.session.cancel());
      case 'incoming':
        return this.decline();
      case 'in-call':
        this.endReason = END_REASONS.localHangup;
        return void (await this.session.bye());
      default:
        return undefined;
    }
  }

  async accept() {
    if (this.call.state !== 'incoming') throw new Error('No incoming call to accept');
    this.move(this.incoming, 'accepting');
    await this.session.accept({ sessionDescriptionHandlerOptions: AUDIO_ONLY }).catch((/** @type {unknown} */ err) => {
      this.endReason = `${END_REASONS.mediaFailed}: ${errorText(err)}`;
    });
  }

  async decline() {
    if (this.call.state !== 'incoming') throw new Error('No incoming call to decline');
    this.endReason = END_REASONS.declined;
    // RFC 3261 §21.6.2: 603 Decline — the callee does not wish to participate.
    await this.session.reject({ statusCode: 603 });
  }

  /** The established call's control (hold, ICE restart); throws without one. */
  established() {
    if (!this.control || this.call.state !== 'in-call') throw new Error('No call in progress');
    return this.control;
  }

  /** @param {any} session */
  #follow(session) {
    session.delegate = {
      onBye: () => { this.endReason = this.transferred || (this.control?.recovering ? END_REASONS.connectionLost : END_REASONS.remoteHangup); },
      // RFC 3261 §14.2: a re-INVITE we accepted (sip.js answered it); its offer may hold or resume us.
      onInvite: (/** @type {any} */ request, /** @type {string} */ _response, /** @type {number} */ code) => {
        if (code === 200) this.control?.remoteOffer(String(request?.body ?? ''));
      },
      // RFC 3261 §9.2: the caller (or the gateway, for another device that answered) cancels the INVITE.
      onCancel: (/** @type {any} */ cancel) => {
        this.cancelled = cancelOutcome(headerValues(cancel?.request, 'Reason'));
      },
    };
    session.stateChange.addListener((/** @type {string} */ s) => {
      if (s === SessionState.Established) this.#onEstablished();
      // sip.js 0.21.2 moves an Inviter to Terminated *before* it calls requestDelegate.onReject
      // (same tick): let that delegate record the final response's reason first.
      if (s === SessionState.Terminated) queueMicrotask(() => this.#onTerminated());
    });
  }

  #onEstablished() {
    const sdh = this.session.sessionDescriptionHandler;
    this.peerConnection = sdh?.peerConnection ?? null;
    this.remoteStream = sdh?.remoteMediaStream ?? null;
    this.answeredAt = Date.now();
    this.control = this.#newControl();
    if (this.direction === 'in') this.move(this.incoming, 'answered', this.peer);
    this.move(this.call, 'in-call', this.peer);
    this.events.onEstablished(this);
  }

  #newControl() {
    const session = this.session;
    return new CallControl(session, {
      callIdOwner: this.direction === 'out', // RFC 3261 §14.1: we made the Call-ID when we called
      recoveryMs: this.recoveryMs,
      onChange: () => this.events.onControl(this),
      onLost: (/** @type {string} */ why) => {
        console.warn(`softphone: call not recovered (${why})`);
        this.endReason = END_REASONS.connectionLost;
        Promise.resolve().then(() => session.bye()).catch(() => this.#onTerminated()); // no BYE: end here
      },
    });
  }

  #onTerminated() {
    if (this.ended) return;
    this.ended = true;
    this.control?.dispose();
    this.control = null;
    const wasInCall = this.call.state === 'in-call';
    if (this.cancelled && !wasInCall) this.endReason = INCOMING_END_TEXT[this.cancelled.outcome];
    const reason = this.endReason || (wasInCall ? END_REASONS.remoteHangup : 'Call failed');
    const record = sessionRecord(this, wasInCall, reason, Date.now());
    if (this.direction === 'in') this.move(this.incoming, incomingEnd(this.incoming.state, this.cancelled, reason), reason);
    this.move(this.call, 'ended', reason);
    this.events.onEnded(this, record);
  }

  /** What the call line shows besides the call state (controlState of this call). */
  get detail() {
    return controlState(this.control);
  }
}
