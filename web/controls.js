// The in-call view (issue 10 item 1): who the call is with, its quality (quality.js / quality-view.js),
// and its controls — Mute, Hold (app.js), Keypad (the digits sent are shown), Transfer (a slot that
// web/transfer.js fills), Swap, Add call, Hang up. Which view the page shows — idle dial pad, ringing,
// or the call — is decided by pageView() (pure, unit-tested) and drawn through data attributes on the
// dialer (style.css). Mute disables the call's outgoing audio track (MediaStreamTrack.enabled = false:
// the sender then sends silence, W3C mediacapture-main §4.3.1.1) and stays on over hold / resume.
import { QualityMonitor, WARNING_TEXT } from './quality.js';
import { QualityView } from './quality-view.js';
import { GatewayQuality } from './quality-gateway.js';
import { mosGrade } from './mos.js';
import { LevelMeter } from './devices.js';
import { isUserPeer, personName } from './words.js';

/** How many of the digits sent the view shows (the latest ones). */
const DIGITS_SHOWN = 24;

/**
 * Which view the page shows: the call's (calling, ringing out, or up), the ringing one (an incoming
 * call and nothing else), or the idle dial pad.
 * @param {string} callState the current call's state @param {boolean} ringing an incoming call rings
 * @returns {'idle' | 'ringing' | 'in-call'}
 */
export function pageView(callState, ringing) {
  if (callState === 'calling' || callState === 'ringing' || callState === 'in-call') return 'in-call';
  return ringing ? 'ringing' : 'idle';
}

/**
 * Mutes (or unmutes) the outgoing audio of a peer connection: every audio sender's track.
 * @param {{ getSenders(): Array<{ track: MediaStreamTrack | null }> } | null} pc @param {boolean} muted
 */
export function muteSenders(pc, muted) {
  for (const s of pc?.getSenders() ?? []) if (s.track && s.track.kind === 'audio') s.track.enabled = !muted;
}

/** @param {string} id */
function el(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`softphone: missing element #${id}`);
  return /** @type {any} */ (e);
}

/** The in-call view of a Phone; returns what app.js calls into (digits pressed). */
export class CallControls {
  /** @param {import('./phone.js').Phone} phone @param {{ devices?: import('./devices.js').Devices }} [opts] */
  constructor(phone, opts = {}) {
    this.phone = phone;
    this.devices = opts.devices;
    this.ui = {
      dialer: el('dialer'), view: el('in-call'), peer: el('peer'), peerName: el('peer-name'), peerNumber: el('peer-number'),
      mute: el('mute-btn'), keypadBtn: el('keypad-btn'), addCall: el('add-call-btn'), number: el('number'),
      digits: el('dtmf-sent'), digitsLine: el('dtmf-line'), micLevel: el('call-mic-level'),
    };
    /** Per call (Line id): muted, the digits sent, the quality monitor. */
    /** @type {Set<number>} */ this.muted = new Set();
    /** @type {Map<number, string>} */ this.digits = new Map();
    /** @type {Map<number, QualityMonitor>} */ this.monitors = new Map();
    /** The call whose view is shown (its Keypad / Add call start closed). @type {number | undefined} */
    this.shownLine = undefined;
    this.quality = new QualityView({ button: el('quality-btn'), panel: el('quality-panel'), warning: el('quality-warning') });
    // The gateway's own figures for both legs beside the browser's (quality-gateway.js): while the panel is
    // open, signed in as the phone signs in to /api/ice-servers; the call found by our own leg's Call-ID.
    this.gatewayQuality = new GatewayQuality({
      credentials: () => phone.iceRefresh?.o,
      callId: () => (this.#line?.call.state === 'in-call' ? String(this.#line.session?.request?.callId ?? '') : ''),
      active: () => !this.quality.el.panel.hidden,
      show: (f) => this.quality.setGatewayFigures(f),
    });
    el('quality-btn').addEventListener('click', () => void this.gatewayQuality.poll());
    this.meter = new LevelMeter(this.ui.micLevel);
    this.#wire();
    this.render();
  }

  /** The current call's Line (undefined: none). @returns {any} */
  get #line() {
    return this.phone.lines.current;
  }

  #wire() {
    const { ui, phone } = this;
    ui.mute.addEventListener('click', () => this.setMuted(!this.isMuted()));
    ui.keypadBtn.addEventListener('click', () => this.#toggle(ui.keypadBtn, 'keypad'));
    ui.addCall.addEventListener('click', () => {
      if (this.#toggle(ui.addCall, 'adding')) ui.number.focus();
    });
    for (const type of ['lines', 'call', 'media']) phone.addEventListener(type, () => this.render());
    // A resumed call gets its tracks enabled again (call-control.js): a muted call stays muted.
    phone.addEventListener('control', () => {
      for (const l of phone.lines.live()) muteSenders(/** @type {any} */ (l.peerConnection), this.muted.has(l.id));
      this.render();
    });
    this.devices?.addEventListener('change', () => this.#meterTrack(true));
  }

  /** Opens / closes a part of the in-call view (aria-expanded on its button). @param {HTMLElement} button @param {string} key */
  #toggle(button, key) {
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    this.ui.dialer.dataset[key] = open ? 'open' : '';
    return open;
  }

  /** Whether the current call is muted. */
  isMuted() {
    const line = this.#line;
    return Boolean(line && this.muted.has(line.id));
  }

  /** Mutes or unmutes the current call. @param {boolean} on */
  setMuted(on) {
    const line = this.#line;
    if (!line || line.call.state !== 'in-call') return;
    if (on) this.muted.add(line.id);
    else this.muted.delete(line.id);
    muteSenders(line.peerConnection, on);
    this.render();
  }

  /** Sends a keypad digit in the current call (RFC 4733 via RTCDTMFSender) and shows it. @param {string} key */
  sendDigit(key) {
    const line = this.#line;
    if (!line || !this.phone.sendDtmf(key)) return false;
    this.digits.set(line.id, `${this.digits.get(line.id) ?? ''}${key}`);
    this.render();
    return true;
  }

  render() {
    const { ui, phone } = this;
    const line = this.#line;
    const state = phone.call.state;
    const view = pageView(state, Boolean(phone.lines.ringing()));
    ui.dialer.dataset.view = view;
    ui.view.hidden = view !== 'in-call';
    ui.peer.hidden = view !== 'in-call';
    // Another call became current (Add call dialled, Swap, a call ended): its view starts closed.
    const shown = view === 'in-call' ? line?.id : undefined;
    if (shown !== this.shownLine) {
      this.shownLine = shown;
      ui.dialer.dataset.keypad = '';
      ui.dialer.dataset.adding = '';
      ui.keypadBtn.setAttribute('aria-expanded', 'false');
      ui.addCall.setAttribute('aria-expanded', 'false');
    }
    this.#renderPeer(line);
    const up = state === 'in-call';
    ui.mute.disabled = !up;
    ui.mute.setAttribute('aria-pressed', String(this.isMuted()));
    ui.keypadBtn.disabled = !up;
    ui.addCall.disabled = !up;
    const sent = line ? this.digits.get(line.id) ?? '' : '';
    ui.digits.textContent = sent.slice(-DIGITS_SHOWN);
    ui.digitsLine.hidden = !sent;
    this.#forget();
    this.#monitor();
    this.#meterTrack(false);
  }

  /** @param {any} line */
  #renderPeer(line) {
    const id = line?.callerId;
    const peer = String(line?.peer ?? '');
    const name = id?.displayName || (isUserPeer(peer) ? personName(peer) : peer);
    const number = id?.number && id.number !== 'unknown' ? id.number : peer;
    this.ui.peerName.textContent = name;
    this.ui.peerNumber.textContent = number.toLowerCase() !== name.toLowerCase() ? number : ''; // "Bob", not "Bob bob"
  }

  /** Drops what belonged to calls that are gone. */
  #forget() {
    const live = new Set(this.phone.lines.live().map((l) => l.id));
    for (const [id, m] of this.monitors) {
      if (live.has(id)) continue;
      m.stop();
      this.monitors.delete(id);
    }
    for (const id of [...this.muted]) if (!live.has(id)) this.muted.delete(id);
    for (const id of [...this.digits.keys()]) if (!live.has(id)) this.digits.delete(id);
  }

  /** A quality monitor for every established call; the current one's is drawn. */
  #monitor() {
    for (const l of /** @type {any[]} */ (this.phone.lines.live())) {
      if (this.monitors.has(l.id) || l.call.state !== 'in-call' || !l.peerConnection) continue;
      const id = l.id;
      // Muted or held: our microphone is meant to be silent (no "no-input" warning then).
      const quiet = () => this.muted.has(id) || l.control?.hold.state !== 'active';
      this.monitors.set(id, new QualityMonitor(l.peerConnection, (m) => {
        if (this.#line?.id === id) this.#drawQuality(m);
      }, undefined, quiet));
    }
    const current = this.#line && this.monitors.get(this.#line.id);
    if (current) this.#drawQuality(current);
    else this.quality.clear();
  }

  /** @param {QualityMonitor} m */
  #drawQuality(m) {
    const t = m.tracker;
    const mos = t.last?.mos;
    const first = /** @type {keyof typeof WARNING_TEXT | undefined} */ ([...t.warnings][0]);
    this.quality.render(t.samples, mos == null ? 'none' : mosGrade(mos), first ? WARNING_TEXT[first] : '');
  }

  /** The in-call level meter follows the current call's microphone track. @param {boolean} force */
  #meterTrack(force) {
    const line = this.#line;
    const pc = /** @type {RTCPeerConnection | null | undefined} */ (line?.peerConnection);
    const sender = line?.call.state === 'in-call' ? pc?.getSenders().find((s) => s.track?.kind === 'audio') : undefined;
    if (force) this.meter.detach();
    this.meter.attach(sender?.track ?? null);
  }
}
