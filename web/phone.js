// SIP side of the softphone: sip.js UserAgent + Registerer + one Line per call (line.js: Inviter or
// Invitation, not SimpleUser, so every state is explicit). Several calls at once (calls.js): one current
// call (its audio plays, the main buttons act on it), held ones, and one incoming call that rings —
// call waiting when another call is up. No DOM here: the UI (app.js) listens to the events this class
// dispatches (`line` in a detail says which call):
//   'registration' — detail { state, reason }     'call' — detail { state, reason, since, peer, line }
//   'media'        — detail { stream }  (remote MediaStream of the current call, when it changes)
//   'incoming'     — detail { state, reason, callerId, line }  (the incoming-call machine: ring on 'ringing')
//   'history'      — detail { record }  (a call just ended and was added to `history`)
//   'control'      — detail { hold, remoteHold, link, message, line }  (hold / reconnection of a call)
//   'lines'        — detail { calls }  (calls.js callViews: the calls, or which one is current, changed)
import { Inviter, Registerer, RegistererState, UserAgent } from 'sip.js';
import { AUDIO_ONLY, controlState } from './call-control.js';
import { callerLabel } from './callerid.js';
import { BUSY_HERE, CallList, MAX_LINES, incomingVerdict, isActive, swapTarget } from './calls.js';
import { CallLog } from './history.js';
import { IceRefresh, fetchIceServers, iceServersUrl, sdhOptions } from './ice-servers.js';
import { incomingCallerId } from './incoming.js';
import { Line } from './line.js';
import { createCallMachine, createIncomingMachine, createRegistrationMachine } from './state.js';
import { END_REASONS, errorText, normaliseTarget, statusReason } from './reasons.js';
import { reconnectDelayMs } from './reconnect.js';

export { reconnectDelayMs };

/** @param {any} response an sip.js IncomingResponse */
const responseReason = (response) => statusReason(response.message.statusCode, response.message.reasonPhrase);

/** Stand-in for "no call yet": the machines in their initial states. */
const NO_LINE = Object.freeze({
  call: createCallMachine(), incoming: createIncomingMachine(), control: null, peer: '', callerId: null, session: null,
  direction: /** @type {'in' | 'out'} */ ('out'), remoteStream: null, peerConnection: null,
});

export class Phone extends EventTarget {
  /** @param {{ wsUrl: string, defaultDomain: string, recoveryMs?: number, sessionDescriptionHandlerFactory?: any }} opts
   *  recoveryMs: how long a call waits for a lost connection to come back (default 60 s);
   *  sessionDescriptionHandlerFactory: sip.js's, e.g. with the chosen microphone (devices.js) */
  constructor(opts) {
    super();
    this.sdhFactory = opts.sessionDescriptionHandlerFactory;
    this.wsUrl = opts.wsUrl;
    this.recoveryMs = opts.recoveryMs ?? 60_000;
    this.domain = opts.defaultDomain;
    /** Do not disturb: every new incoming call is answered 486 Busy Here by the page itself. */
    this.dnd = false;
    this.registration = createRegistrationMachine((/** @type {any} */ c) => {
      this.#emit('registration', { state: c.to, reason: c.reason });
      if (c.to === 'registered') for (const l of this.lines.live()) void l.control?.transportBack();
    });
    /** Every call of the page and the current one (calls.js). @type {CallList<Line>} */
    this.lines = new CallList();
    /** The latest incoming call (what `incoming` and `callerId` report). @type {Line | null} */
    this.lastIncoming = null;
    /** Recent calls, newest first; missed ones are `history.missed()`. */
    this.history = new CallLog();
    /** @type {any} */ this.ua = null;
    /** @type {any} */ this.registerer = null;
    /** Reconnection after a lost connection: attempt count and pending timer. */
    this.reconnectAttempt = 0;
    this.reconnectTimer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined);
    /** Options sip.js reads each time it makes a session's peer connection: a fresh TURN credential
     *  replaces `peerConnectionConfiguration` in place. @type {any} */
    this.sdhOptions = null;
    /** @type {IceRefresh | null} */ this.iceRefresh = null;
  }

  /** The current call (or the last one, ended; NO_LINE before any). */
  get #current() {
    return this.lines.current ?? NO_LINE;
  }

  /** The current call's machine: what the call line shows. */
  get call() { return this.#current.call; }
  /** The latest incoming call's machine (its Accept / Decline panel). */
  get incoming() { return (this.lastIncoming ?? NO_LINE).incoming; }
  /** Caller ID of the latest incoming call. */
  get callerId() { return (this.lastIncoming ?? NO_LINE).callerId; }
  /** Hold, ICE restart and reconnection of the current call (null without an established one). */
  get control() { return this.#current.control; }
  get peer() { return this.#current.peer; }
  /** What the current call is: an outgoing or an incoming call. */
  get direction() { return this.#current.direction; }
  get remoteStream() { return this.#current.remoteStream; }
  get peerConnection() { return this.#current.peerConnection; }
  /** The calls as the page lists them (calls.js callViews; web/transfer.js picks among them). */
  calls() { return this.lines.views(); }

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

  /** @param {{ user: string, password: string, domain?: string, authUser?: string }} creds authUser: the digest
   *  user name when it is not `user` (a device token's, delivery.js "keep me signed in"); `password` is then its secret */
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
    const authUser = String(creds.authUser ?? '') || user;
    const ice = await fetchIceServers(iceServersUrl(this.wsUrl), authUser, password);
    if (this.registration.state !== 'connecting') return; // signed out while asking
    if (!ice.ok && ice.unauthorized) {
      this.#move(this.registration, 'failed', statusReason(401, 'Unauthorized'));
      return;
    }
    if (!ice.ok) console.warn(`softphone: no ICE servers from the gateway (${ice.error}); calling without TURN`);
    this.sdhOptions = sdhOptions(ice.ok ? ice.iceServers : []);
    this.ua = this.#createUserAgent(uri, authUser, password);
    const ua = this.ua;
    this.iceRefresh = new IceRefresh({ url: iceServersUrl(this.wsUrl), user: authUser, password, options: this.sdhOptions, alive: () => ua === this.ua });
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
      ...(this.sdhFactory ? { sessionDescriptionHandlerFactory: this.sdhFactory } : {}),
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
    for (const line of this.lines.live()) {
      if (line.control) line.control.transportLost(); // the call stays up, "Reconnecting…"
      else line.endReason = END_REASONS.transportLost;
    }
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
    for (const line of this.lines.live()) await line.hangup().catch(() => undefined);
    const ua = this.ua;
    const registerer = this.registerer;
    this.ua = null;
    this.registerer = null;
    if (registerer && this.registration.state === 'registered') await registerer.unregister().catch(() => undefined);
    if (ua) await ua.stop().catch(() => undefined);
    if (this.registration.state !== 'signed-out') this.registration.transition('signed-out');
  }

  /** Places a call to a number (or SIP user) at the signed-in domain; the active call, if any, is put on
   *  hold first. @param {string} input */
  async dial(input) {
    if (this.registration.state !== 'registered') throw new Error('Sign in first');
    const live = this.lines.live();
    if (live.some((l) => l.call.state !== 'in-call')) throw new Error('Already in a call');
    if (live.length >= MAX_LINES) throw new Error(`At most ${MAX_LINES} calls at once`);
    const target = normaliseTarget(input);
    // RFC 3261 §25.1: "#" is not allowed unescaped in the user part.
    const uri = UserAgent.makeURI(`sip:${target.replace(/#/g, '%23')}@${this.domain}`);
    if (!uri) throw new Error(`Cannot call ${target}`);
    await this.#holdActive();
    const inviter = new Inviter(this.ua, uri, { sessionDescriptionHandlerOptions: AUDIO_ONLY });
    const line = this.#newLine(inviter, { direction: 'out', peer: target });
    this.#makeCurrent(line);
    await line.invite();
  }

  /** Hangs up, cancels or declines the current call (or the call `id`); the other calls stay. @param {number} [id] */
  async hangup(id) {
    const line = id === undefined ? this.lines.current : this.lines.get(id);
    if (!line || line.ended) return;
    await line.hangup();
  }

  /** Turns do-not-disturb on or off (a page setting: every new call is answered 486 while on). @param {boolean} on */
  setDnd(on) {
    this.dnd = Boolean(on);
    this.#emit('lines', { calls: this.calls() });
  }

  /** @param {any} invitation an sip.js Invitation */
  #onInvite(invitation) {
    const verdict = incomingVerdict(this.lines.lines, { dnd: this.dnd });
    if (!verdict.take) {
      // RFC 3261 §21.4.24: 486 Busy Here when the callee's end system cannot take another call.
      void invitation.reject({ statusCode: BUSY_HERE.statusCode }).catch(() => undefined);
      return;
    }
    const callerId = incomingCallerId(invitation);
    const line = this.#newLine(invitation, { direction: 'in', peer: callerLabel(callerId), callerId });
    this.lastIncoming = line;
    if (!verdict.waiting) this.#makeCurrent(line);
    line.ring();
    this.#emit('lines', { calls: this.calls() });
  }

  /** Answers the ringing call; the active call, if any, is put on hold first (call waiting). */
  async accept() {
    const line = this.lines.ringing();
    if (!line) throw new Error('No incoming call to accept');
    await this.#holdActive();
    this.#makeCurrent(line);
    await line.accept();
  }

  async decline() {
    const line = this.lines.ringing();
    if (!line) throw new Error('No incoming call to decline');
    await line.decline();
  }

  /**
   * Swap: holds the active call and resumes a held one (`id`, else the newest held call other than the
   * current one), which becomes the current call. Both by re-INVITE (call-control.js).
   * @param {number} [id]
   */
  async swap(id) {
    const current = this.lines.current;
    const target = id === undefined ? swapTarget(this.lines.lines, current) : this.lines.get(id);
    if (!target || target.ended || target.call.state !== 'in-call') throw new Error('No held call to swap to');
    await this.#holdActive(target);
    this.#makeCurrent(target);
    if (target.control?.hold.state === 'held') await target.control.setHold(false);
  }

  /** Puts the current call on hold (`on`: re-INVITE, our side sendonly) or resumes it. Resuming one call
   *  while another is active holds that one first. @param {boolean} on */
  async setHold(on) {
    const line = this.#established();
    if (!on) await this.#holdActive(line);
    return line.established().setHold(on);
  }

  /** Re-INVITEs the current call with an ICE restart (the network changed). Resolves true when accepted. */
  async restartIce() {
    return this.#established().established().restartIce();
  }

  /** Sends an RFC 4733 telephone-event via the peer connection's RTCDTMFSender. @param {string} digit */
  sendDtmf(digit) {
    const line = this.lines.current;
    if (!line || line.call.state !== 'in-call' || !/^[0-9*#A-D]$/.test(digit)) return false;
    return Boolean(line.session?.sessionDescriptionHandler?.sendDtmf(digit));
  }

  #established() {
    const line = this.lines.current;
    if (!line || line.ended || line.call.state !== 'in-call') throw new Error('No call in progress');
    return line;
  }

  /** Holds every active call except `keep` (two calls never have their audio on at once). @param {Line} [keep] */
  async #holdActive(keep) {
    for (const line of this.lines.live()) {
      if (line === keep || !isActive(line) || !line.control) continue;
      if (line.control.hold.state !== 'active') continue;
      await line.control.setHold(true);
      const after = /** @type {string | undefined} */ (line.control?.hold.state); // setHold changed it
      if (line.control && after !== 'held' && !line.ended) throw new Error(`Cannot hold the call with ${line.peer}: ${line.control.message}`);
    }
  }

  /** @param {Line} line */
  #makeCurrent(line) {
    if (this.lines.current === line) return;
    this.lines.current = line;
    this.#emit('lines', { calls: this.calls() });
    if (line.remoteStream) this.#emit('media', { stream: line.remoteStream });
  }

  /** @param {any} session @param {{ direction: 'in' | 'out', peer: string, callerId?: any }} opts */
  #newLine(session, opts) {
    const line = new Line(session, { ...opts, recoveryMs: this.recoveryMs }, {
      onCall: (l, c) => this.#emit('call', { state: c.to, reason: c.reason, since: c.at, peer: l.peer, line: l.id }),
      onIncoming: (l, c) => this.#emit('incoming', { state: c.to, reason: c.reason, callerId: l.callerId, line: l.id }),
      onControl: (l) => {
        this.#emit('control', { ...controlState(l.control), line: l.id });
        this.#emit('lines', { calls: this.calls() });
      },
      onEstablished: (l) => {
        this.#emit('lines', { calls: this.calls() });
        if (l === this.lines.current && l.remoteStream) this.#emit('media', { stream: l.remoteStream });
      },
      onEnded: (l, record) => {
        const added = this.history.add(record);
        const was = this.lines.current;
        this.lines.remove(l);
        this.#emit('lines', { calls: this.calls() });
        const now = this.lines.current;
        if (now !== was && now?.remoteStream) this.#emit('media', { stream: now.remoteStream });
        this.#emit('history', { record: added });
      },
    });
    this.lines.add(line);
    return line;
  }
}
