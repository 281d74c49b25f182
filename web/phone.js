// SIP side of the softphone: sip.js UserAgent + Registerer + Inviter (not SimpleUser, so every
// state is explicit). No DOM here: the UI (app.js) listens to the events this class dispatches.
//   'registration' — detail { state, reason }     'call' — detail { state, reason, since, peer }
//   'media'        — detail { stream }  (remote MediaStream of the established call)
//   'incoming'     — detail { state, reason, callerId }  (the incoming-call machine: ring on 'ringing')
//   'history'      — detail { record }  (a call just ended and was added to `history`)
//   'control'      — detail { hold, remoteHold, link, message }  (hold / reconnection of the established call)
import { Inviter, Registerer, RegistererState, SessionState, UserAgent } from 'sip.js';
import { AUDIO_ONLY, CallControl, controlState } from './call-control.js';
import { callerLabel, cancelOutcome } from './callerid.js';
import { CallLog, sessionRecord } from './history.js';
import { IceRefresh, fetchIceServers, iceServersUrl, sdhOptions } from './ice-servers.js';
import { INCOMING_END_TEXT, headerValues, incomingCallerId, incomingEnd } from './incoming.js';
import { createCallMachine, createIncomingMachine, createRegistrationMachine } from './state.js';
import { END_REASONS, errorText, normaliseTarget, statusReason } from './reasons.js';
import { reconnectDelayMs } from './reconnect.js';

export { reconnectDelayMs };

/** @param {any} response an sip.js IncomingResponse */
const responseReason = (response) => statusReason(response.message.statusCode, response.message.reasonPhrase);

export class Phone extends EventTarget {
  /** @param {{ wsUrl: string, defaultDomain: string, recoveryMs?: number }} opts recoveryMs: how long a call
   *  waits for a lost connection to come back (default 60 s) */
  constructor(opts) {
    super();
    this.wsUrl = opts.wsUrl;
    this.recoveryMs = opts.recoveryMs ?? 60_000;
    /** Hold, ICE restart and reconnection of the established call. @type {CallControl | null} */
    this.control = null;
    this.domain = opts.defaultDomain;
    this.peer = '';
    /** @type {MediaStream | null} */
    this.remoteStream = null;
    /** @type {RTCPeerConnection | null} */
    this.peerConnection = null;
    this.registration = createRegistrationMachine((/** @type {any} */ c) => {
      this.#emit('registration', { state: c.to, reason: c.reason });
      if (c.to === 'registered') void this.control?.transportBack();
    });
    this.call = createCallMachine((/** @type {any} */ c) =>
      this.#emit('call', { state: c.to, reason: c.reason, since: c.at, peer: this.peer }));
    this.incoming = createIncomingMachine((/** @type {any} */ c) =>
      this.#emit('incoming', { state: c.to, reason: c.reason, callerId: this.callerId }));
    /** Caller ID of the current (or last) incoming call. @type {{ number: string, displayName: string } | null} */
    this.callerId = null;
    /** Recent calls, newest first; missed ones are `history.missed()`. */
    this.history = new CallLog();
    /** What the current session is: an outgoing or an incoming call. @type {'in' | 'out'} */
    this.direction = 'out';
    /** When the current session started and (if it did) was answered, ms since epoch. */
    this.startedAt = 0;
    this.answeredAt = 0;
    /** Set when a CANCEL ended the incoming call. @type {{ outcome: 'answered-elsewhere' | 'missed', text: string } | null} */
    this.cancelled = null;
    /** @type {any} */ this.ua = null;
    /** @type {any} */ this.registerer = null;
    /** @type {any} */ this.session = null;
    /** Why the current session ended, decided by whoever learns it first. */
    this.endReason = '';
    /** Reconnection after a lost connection: attempt count and pending timer. */
    this.reconnectAttempt = 0;
    this.reconnectTimer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined);
    /** Options sip.js reads each time it makes a session's peer connection: a fresh TURN credential
     *  replaces `peerConnectionConfiguration` in place. @type {any} */
    this.sdhOptions = null;
    /** @type {IceRefresh | null} */ this.iceRefresh = null;
  }

  /** @param {string} type @param {object} detail */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * Applies `to` on `machine` if the edge is legal. sip.js callbacks can race (e.g. a BYE while we
   * cancel): an illegal edge there is logged and ignored rather than thrown into sip.js.
   * @param {any} machine @param {string} to @param {string} [reason]
   */
  #move(machine, to, reason = '') {
    if (!machine.can(to)) {
      console.warn(`softphone: ignoring ${machine.state} -> ${to} (${reason})`);
      return false;
    }
    machine.transition(to, reason);
    return true;
  }

  /** @param {{ user: string, password: string, domain?: string }} creds */
  async signIn(creds) {
    const user = String(creds.user ?? '').trim();
    if (!/^[A-Za-z0-9._~+-]{1,64}$/.test(user)) throw new Error('User name: 1-64 letters, digits or . _ ~ + -');
    if (!creds.password) throw new Error('Enter a password');
    const st = this.registration.state;
    if (st !== 'signed-out' && st !== 'failed') throw new Error(`Already ${st}`);
    const domain = String(creds.domain ?? '').trim() || this.domain;
    const uri = UserAgent.makeURI(`sip:${user}@${domain}`);
    if (!uri) throw new Error(`Not a valid SIP domain: ${domain}`);
    this.domain = domain;
    clearTimeout(this.reconnectTimer);
    this.iceRefresh?.stop();
    this.reconnectAttempt = 0;
    const stale = this.ua; // left over from a failed attempt
    this.ua = null;
    this.registerer = null;
    if (stale) await stale.stop().catch(() => undefined);
    this.registration.transition('connecting', this.wsUrl);
    const password = String(creds.password);
    const ice = await fetchIceServers(iceServersUrl(this.wsUrl), user, password);
    if (this.registration.state !== 'connecting') return; // signed out while asking
    if (!ice.ok && ice.unauthorized) {
      this.#move(this.registration, 'failed', statusReason(401, 'Unauthorized'));
      return;
    }
    if (!ice.ok) console.warn(`softphone: no ICE servers from the gateway (${ice.error}); calling without TURN`);
    this.sdhOptions = sdhOptions(ice.ok ? ice.iceServers : []);
    this.ua = this.#createUserAgent(uri, user, password);
    const ua = this.ua;
    this.iceRefresh = new IceRefresh({ url: iceServersUrl(this.wsUrl), user, password, options: this.sdhOptions, alive: () => ua === this.ua });
    if (ice.ok && ice.ttl > 0) this.iceRefresh.start(ice.ttl);
    try {
      await this.ua.start();
    } catch {
      this.#move(this.registration, 'failed', `Cannot reach the server (${this.wsUrl})`);
      return;
    }
    await this.#register();
  }

  /** @param {any} uri @param {string} user @param {string} password */
  #createUserAgent(uri, user, password) {
    const ua = new UserAgent({
      uri,
      authorizationUsername: user,
      authorizationPassword: password,
      transportOptions: { server: this.wsUrl },
      sessionDescriptionHandlerFactoryOptions: this.sdhOptions,
      logLevel: 'warn',
      delegate: {
        onInvite: (/** @type {any} */ invitation) => this.#onInvite(invitation),
        onDisconnect: (/** @type {Error | undefined} */ error) => this.#onDisconnect(error),
      },
    });
    return ua;
  }

  /** REGISTERs (again, after a reconnection: the same Registerer, so the same Contact). */
  async #register() {
    if (!this.#move(this.registration, 'registering')) return;
    const registered = () => {
      if (this.registration.state === 'registering') this.#move(this.registration, 'registered');
    };
    if (!this.registerer) {
      this.registerer = new Registerer(this.ua, { expires: 600 });
      this.registerer.stateChange.addListener((/** @type {string} */ s) => {
        if (s === RegistererState.Registered) registered();
      });
    }
    try {
      await this.registerer.register({
        requestDelegate: {
          onAccept: registered,
          onReject: (/** @type {any} */ response) => this.#move(this.registration, 'failed', responseReason(response)),
        },
      });
    } catch (err) {
      this.#move(this.registration, 'failed', errorText(err));
    }
  }

  /** @param {Error | undefined} error */
  #onDisconnect(error) {
    if (!error) return; // a disconnect we asked for (sign out)
    if (this.control) this.control.transportLost(); // the call stays up, "Reconnecting…"
    else if (this.session) this.endReason = END_REASONS.transportLost;
    this.#scheduleReconnect(); // first, so that listeners of 'failed' already see `reconnecting`
    this.#move(this.registration, 'failed', END_REASONS.transportLost);
  }

  /** True while a lost connection is being re-established (the page shows "Reconnecting…"). */
  get reconnecting() {
    return this.reconnectAttempt > 0;
  }

  /**
   * A WebSocket binding dies with its connection (RFC 5626 §4.4.1: on flow failure the UA forms a new
   * flow and registers again), so a lost connection is retried with backoff until signed out.
   */
  #scheduleReconnect() {
    clearTimeout(this.reconnectTimer);
    if (!this.ua) return;
    const delay = reconnectDelayMs(++this.reconnectAttempt);
    this.reconnectTimer = setTimeout(() => void this.#reconnect(), delay);
  }

  async #reconnect() {
    this.reconnectTimer = undefined;
    const ua = this.ua;
    if (!ua || this.registration.state !== 'failed') return;
    this.#move(this.registration, 'connecting', this.wsUrl);
    try {
      await ua.reconnect();
    } catch {
      if (ua !== this.ua) return; // signed out meanwhile
      this.#scheduleReconnect();
      this.#move(this.registration, 'failed', `Cannot reach the server (${this.wsUrl})`);
      return;
    }
    if (ua !== this.ua) return;
    this.reconnectAttempt = 0;
    await this.#register();
  }

  async signOut() {
    clearTimeout(this.reconnectTimer);
    this.iceRefresh?.stop();
    this.reconnectTimer = undefined;
    this.reconnectAttempt = 0;
    if (this.session) await this.hangup().catch(() => undefined);
    const ua = this.ua;
    const registerer = this.registerer;
    this.ua = null;
    this.registerer = null;
    if (registerer && this.registration.state === 'registered') await registerer.unregister().catch(() => undefined);
    if (ua) await ua.stop().catch(() => undefined);
    if (this.registration.state !== 'signed-out') this.registration.transition('signed-out');
  }

  /** Places a call to a number (or SIP user) at the signed-in domain. @param {string} input */
  async dial(input) {
    if (this.registration.state !== 'registered') throw new Error('Sign in first');
    if (!this.call.can('calling')) throw new Error('Already in a call');
    const target = normaliseTarget(input);
    // RFC 3261 §25.1: "#" is not allowed unescaped in the user part.
    const uri = UserAgent.makeURI(`sip:${target.replace(/#/g, '%23')}@${this.domain}`);
    if (!uri) throw new Error(`Cannot call ${target}`);
    const inviter = new Inviter(this.ua, uri, { sessionDescriptionHandlerOptions: AUDIO_ONLY });
    this.peer = target;
    this.direction = 'out';
    this.#adopt(inviter);
    this.call.transition('calling', target);
    const requestDelegate = {
      onProgress: (/** @type {any} */ r) => {
        const code = r.message.statusCode;
        if ((code === 180 || code === 183) && this.call.state === 'calling') this.#move(this.call, 'ringing');
      },
      onReject: (/** @type {any} */ r) => { this.endReason = responseReason(r); },
    };
    await inviter.invite({ requestDelegate }).catch((/** @type {unknown} */ err) => {
      this.endReason = `${END_REASONS.mediaFailed}: ${errorText(err)}`;
    });
  }

  /** Hangs up, cancels or declines, whichever the call state calls for. */
  async hangup() {
    const s = this.session;
    if (!s) return;
    switch (this.call.state) {
      case 'calling':
      case 'ringing':
        this.endReason = END_REASONS.cancelled;
        return void (await s.cancel());
      case 'incoming':
        return this.decline();
      case 'in-call':
        this.endReason = END_REASONS.localHangup;
        return void (await s.bye());
      default:
        return undefined;
    }
  }

  /** @param {any} invitation an sip.js Invitation */
  #onInvite(invitation) {
    if (!this.call.can('incoming') || !this.incoming.can('ringing')) {
      // RFC 3261 §21.4.24: 486 Busy Here when the callee's end system cannot take another call.
      void invitation.reject({ statusCode: 486 }).catch(() => undefined);
      return;
    }
    this.callerId = incomingCallerId(invitation);
    this.peer = callerLabel(this.callerId);
    this.direction = 'in';
    this.#adopt(invitation);
    this.incoming.transition('ringing', this.peer);
    this.call.transition('incoming', this.peer);
  }

  async accept() {
    if (this.call.state !== 'incoming' || !this.session) throw new Error('No incoming call to accept');
    this.#move(this.incoming, 'accepting');
    await this.session.accept({ sessionDescriptionHandlerOptions: AUDIO_ONLY }).catch((/** @type {unknown} */ err) => {
      this.endReason = `${END_REASONS.mediaFailed}: ${errorText(err)}`;
    });
  }

  async decline() {
    if (this.call.state !== 'incoming' || !this.session) throw new Error('No incoming call to decline');
    this.endReason = END_REASONS.declined;
    // RFC 3261 §21.6.2: 603 Decline — the callee does not wish to participate.
    await this.session.reject({ statusCode: 603 });
  }

  /** Puts the established call on hold (`on`: re-INVITE, our side sendonly) or resumes it. @param {boolean} on */
  async setHold(on) {
    return this.#control().setHold(on);
  }

  /** Re-INVITEs the call with an ICE restart (the network changed). Resolves true when accepted. */
  async restartIce() {
    return this.#control().restartIce();
  }

  #control() {
    if (!this.control || this.call.state !== 'in-call') throw new Error('No call in progress');
    return this.control;
  }

  /** @param {any} session */
  #newControl(session) {
    return new CallControl(session, {
      callIdOwner: this.direction === 'out', // RFC 3261 §14.1: we made the Call-ID when we called
      recoveryMs: this.recoveryMs,
      onChange: () => this.#emit('control', controlState(this.control)),
      onLost: (/** @type {string} */ why) => {
        console.warn(`softphone: call not recovered (${why})`);
        this.endReason = END_REASONS.connectionLost;
        Promise.resolve().then(() => session.bye()).catch(() => this.#onTerminated(session)); // no BYE: end here
      },
    });
  }

  /** Sends an RFC 4733 telephone-event via the peer connection's RTCDTMFSender. @param {string} digit */
  sendDtmf(digit) {
    if (this.call.state !== 'in-call' || !/^[0-9*#A-D]$/.test(digit)) return false;
    return Boolean(this.session?.sessionDescriptionHandler?.sendDtmf(digit));
  }

  /** Follows one sip.js session (Inviter or Invitation) until it terminates. @param {any} session */
  #adopt(session) {
    this.session = session;
    this.endReason = '';
    this.remoteStream = null;
    this.peerConnection = null;
    this.cancelled = null;
    this.startedAt = Date.now();
    this.answeredAt = 0;
    session.delegate = {
      onBye: () => { this.endReason = this.control?.recovering ? END_REASONS.connectionLost : END_REASONS.remoteHangup; },
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
      if (s === SessionState.Established) this.#onEstablished(session);
      // sip.js 0.21.2 moves an Inviter to Terminated *before* it calls requestDelegate.onReject
      // (same tick): let that delegate record the final response's reason first.
      if (s === SessionState.Terminated) queueMicrotask(() => this.#onTerminated(session));
    });
  }

  /** @param {any} session */
  #onEstablished(session) {
    const sdh = session.sessionDescriptionHandler;
    this.peerConnection = sdh?.peerConnection ?? null;
    this.remoteStream = sdh?.remoteMediaStream ?? null;
    this.answeredAt = Date.now();
    this.control = this.#newControl(session);
    if (this.direction === 'in') this.#move(this.incoming, 'answered', this.peer);
    this.#move(this.call, 'in-call', this.peer);
    if (this.remoteStream) this.#emit('media', { stream: this.remoteStream });
  }

  /** @param {any} session */
  #onTerminated(session) {
    if (session !== this.session) return;
    this.control?.dispose();
    this.control = null;
    const wasInCall = this.call.state === 'in-call';
    if (this.cancelled && !wasInCall) this.endReason = INCOMING_END_TEXT[this.cancelled.outcome];
    const reason = this.endReason || (wasInCall ? END_REASONS.remoteHangup : 'Call failed');
    this.session = null;
    const record = this.history.add(sessionRecord(this, wasInCall, reason, Date.now()));
    if (this.direction === 'in') this.#move(this.incoming, incomingEnd(this.incoming.state, this.cancelled, reason), reason);
    this.#move(this.call, 'ended', reason);
    this.#emit('history', { record });
  }
}
