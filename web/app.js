// UI of the softphone: renders Phone's states and turns clicks into Phone calls. No SIP here.
import { controlState } from './call-control.js';
import { toneFor } from './calls.js';
import { renderCalls } from './calls-view.js';
import { Phone } from './phone.js';
import { ToneMeter } from './media.js';
import { callLabel, formatDuration, registrationLabel } from './reasons.js';
import { renderLists } from './lists.js';
import { Ringer, WAITING_CADENCE } from './ringtone.js';
import { installTestHook } from './testhook.js';
import { Web } from 'sip.js';
import { CallControls } from './controls.js';
import { Devices } from './devices.js';
import { installDevicesView } from './devices-view.js';
import { bannerWords, endWords } from './words.js';
import { installTransfer } from './transfer-view.js';
import { installDelivery } from './delivery.js';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

/** @param {string} id */
function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`softphone: missing element #${id}`);
  return /** @type {any} */ (el);
}

const ui = {
  signin: $('signin'), user: $('user'), password: $('password'), domain: $('domain'),
  signinBtn: $('signin-btn'), signinError: $('signin-error'),
  dialer: $('dialer'), who: $('who'), signoutBtn: $('signout-btn'), dndBtn: $('dnd-btn'), calls: $('calls'),
  number: $('number'), keypad: $('keypad'), callBtn: $('call-btn'), hangupBtn: $('hangup-btn'), holdBtn: $('hold-btn'), swapBtn: $('swap-btn'),
  incoming: $('incoming'), incomingTitle: $('incoming-title'), incomingNote: $('incoming-note'), incomingName: $('incoming-name'), incomingNumber: $('incoming-number'),
  acceptBtn: $('accept-btn'), declineBtn: $('decline-btn'),
  missed: $('missed'), missedList: $('missed-list'), missedCount: $('missed-count'),
  recent: $('recent'), recentList: $('recent-list'),
  callState: $('call-state'), callTimer: $('call-timer'), callError: $('call-error'),
  regDot: $('reg-dot'), regState: $('reg-state'), audio: $('remote-audio'),
};

const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
/** The chosen microphone and speaker (devices.js): every call's audio comes from the chosen microphone. */
const devices = new Devices();
const phone = new Phone({
  wsUrl: `${scheme}://${location.host}/sip`, defaultDomain: location.hostname,
  sessionDescriptionHandlerFactory: Web.defaultSessionDescriptionHandlerFactory(devices.mediaStreamFactory()),
});
const meter = new ToneMeter();
/** Both tones sound on the output the call's audio element plays on. */
const sinkId = () => String(ui.audio.sinkId ?? '');
const ringer = new Ringer({ sinkId });
/** Call waiting: short beeps while another call is up, instead of the ring. */
const waitingTone = new Ringer({ cadence: WAITING_CADENCE, sinkId });
const DND_KEY = 'webphone.dnd';
const pageTitle = document.title;
installTestHook(phone, meter, ringer, waitingTone);
ui.domain.placeholder = location.hostname;

/** Runs an async UI action; its error is shown in `errorEl`, never left unhandled. */
function act(/** @type {HTMLElement} */ errorEl, /** @type {() => Promise<unknown>} */ fn) {
  errorEl.textContent = '';
  fn().catch((err) => { errorEl.textContent = err instanceof Error ? err.message : String(err); });
}

function renderRegistration() {
  const { state, reason } = phone.registration;
  const aor = `${ui.user.value.trim()}@${phone.domain}`;
  // A lost connection is retried by Phone: say so instead of offering the sign-in form again.
  const reconnecting = phone.reconnecting && state !== 'registered';
  ui.regDot.dataset.state = state;
  ui.regState.textContent = reconnecting ? `Reconnecting… (${reason || 'connection lost'})` : registrationLabel(state, reason, aor);
  const busy = state === 'connecting' || state === 'registering';
  ui.signinBtn.disabled = busy;
  ui.signin.hidden = state === 'registered' || reconnecting;
  ui.dialer.hidden = state !== 'registered';
  ui.who.textContent = aor;
  // The connection banner: what is wrong and what to do (words.js).
  const banner = bannerWords({ state, reason, reconnecting, online: navigator.onLine });
  const connBanner = $('conn-banner');
  connBanner.hidden = !banner.text;
  connBanner.dataset.level = banner.level;
  connBanner.textContent = banner.text;
}

/** @type {Record<string, string>} */
const IN_VIEW_LABEL = { calling: 'Calling…', ringing: 'Ringing…', 'in-call': 'In call' };
let timer = 0;
function renderTimer() {
  ui.callTimer.textContent = phone.call.state === 'in-call' ? formatDuration(Date.now() - phone.call.since) : '';
}

function renderCall() {
  const { state, reason } = phone.call;
  const control = controlState(phone.control);
  ui.callState.dataset.state = state;
  // People's words for how a call ended ("Bob is offline"); the SIP code only in the details line.
  const words = state === 'ended' ? endWords(reason, phone.peer, phone.lines.current?.endStatus) : null;
  // In the call's view the other party's name stands above: "In call", "Calling…" without it again.
  const label = callLabel(state, reason, phone.peer, control);
  const short = label === callLabel(state, reason, phone.peer) ? IN_VIEW_LABEL[state] : undefined;
  ui.callState.textContent = words ? words.text : short ?? label;
  $('call-detail').textContent = words?.detail ?? '';
  // One button whose name says what it does: "Hold", or "Resume" while held (or while resuming).
  const held = control.hold === 'held' || control.hold === 'resuming';
  ui.holdBtn.textContent = held ? 'Resume' : 'Hold';
  ui.holdBtn.disabled = state !== 'in-call' || control.link !== 'up' || (control.hold !== 'active' && control.hold !== 'held');
  const active = state === 'calling' || state === 'ringing' || state === 'in-call';
  // A new call while in a call holds the current one first (several lines).
  ui.callBtn.disabled = state === 'calling' || state === 'ringing' || state === 'incoming';
  ui.hangupBtn.disabled = !active;
  ui.swapBtn.disabled = !phone.calls().some((c) => !c.current && c.state === 'in-call' && c.hold === 'held');
  ui.incoming.hidden = !phone.lines.ringing();
  clearInterval(timer);
  if (state === 'in-call') timer = window.setInterval(renderTimer, 1000);
  renderTimer();
  if (state === 'ended') {
    meter.detach();
    ui.audio.srcObject = null;
  }
}

/** Rings while an incoming call waits for an answer; shows who calls. */
function renderIncoming() {
  const ringing = phone.incoming.state === 'ringing';
  const tone = toneFor(phone.lines.lines);
  ui.incomingTitle.textContent = tone === 'waiting' ? 'Call waiting' : 'Incoming call';
  ui.incomingNote.hidden = tone !== 'waiting';
  const id = phone.callerId;
  ui.incomingName.textContent = id?.displayName || id?.number || '';
  ui.incomingNumber.textContent = id?.displayName && id.number !== 'unknown' ? id.number : '';
  ui.acceptBtn.disabled = !ringing;
  ui.declineBtn.disabled = !ringing;
  if (tone === 'ring') ringer.start();
  else ringer.stop();
  if (tone === 'waiting') waitingTone.start();
  else waitingTone.stop();
  document.title = ringing ? `Incoming call: ${phone.peer}` : pageTitle;
}

/** The list of calls changed (a call came, ended, was held, or another became current). */
function renderLines() {
  renderCalls(ui.calls, phone.calls(), {
    swap: (id) => act(ui.callError, () => phone.swap(id)),
    hangup: (id) => act(ui.callError, () => phone.hangup(id)),
  });
  ui.dndBtn.setAttribute('aria-pressed', String(phone.dnd));
  renderCall();
  renderIncoming();
}

/** @param {boolean} on */
function setDnd(on) {
  phone.setDnd(on);
  try {
    localStorage.setItem(DND_KEY, on ? '1' : '');
  } catch {
    // storage disabled: the setting lasts for this page only
  }
}

/** @param {MediaStream} stream */
function playRemote(stream) {
  ui.audio.srcObject = stream;
  void ui.audio.play?.().catch(() => undefined); // autoplay may need a gesture: the Call click was one
  meter.attach(stream);
  stream.addEventListener('addtrack', () => meter.attach(stream));
}

/** @param {string} key */
function pressKey(key) {
  if (phone.call.state === 'in-call') controls.sendDigit(key);
  else ui.number.value += key;
}

function buildKeypad() {
  for (const key of KEYS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = key;
    b.dataset.key = key;
    b.addEventListener('click', () => pressKey(key));
    ui.keypad.append(b);
  }
}

function wire() {
  ui.signin.addEventListener('submit', (/** @type {Event} */ e) => {
    e.preventDefault();
    ringer.unlock(); // a user gesture: lets the ring tone play later without one (autoplay policy)
    waitingTone.unlock();
    act(ui.signinError, () => phone.signIn({ user: ui.user.value, password: ui.password.value, domain: ui.domain.value }));
  });
  ui.signoutBtn.addEventListener('click', () => act(ui.callError, () => phone.signOut()));
  ui.callBtn.addEventListener('click', () => act(ui.callError, () => phone.dial(ui.number.value)));
  ui.number.addEventListener('keydown', (/** @type {KeyboardEvent} */ e) => {
    if (e.key === 'Enter') act(ui.callError, () => phone.dial(ui.number.value));
  });
  ui.hangupBtn.addEventListener('click', () => act(ui.callError, () => phone.hangup()));
  ui.holdBtn.addEventListener('click', () => act(ui.callError, () => phone.setHold(phone.control?.hold.state === 'active')));
  ui.swapBtn.addEventListener('click', () => act(ui.callError, () => phone.swap()));
  ui.dndBtn.addEventListener('click', () => setDnd(!phone.dnd));
  ui.acceptBtn.addEventListener('click', () => act(ui.callError, () => phone.accept()));
  ui.declineBtn.addEventListener('click', () => act(ui.callError, () => phone.decline()));
  phone.addEventListener('registration', renderRegistration);
  phone.addEventListener('call', renderCall);
  phone.addEventListener('control', (/** @type {any} */ e) => {
    renderCall();
    if (e.detail.message) ui.callError.textContent = e.detail.message;
  });
  // A new network (Wi-Fi ↔ mobile, back online): the call's ICE path must be found again (RFC 8445 §9).
  const networkChanged = () => { if (phone.control) void phone.restartIce().catch(() => undefined); };
  window.addEventListener('online', networkChanged);
  /** @type {any} */ (navigator).connection?.addEventListener?.('change', networkChanged);
  phone.addEventListener('incoming', renderIncoming);
  phone.addEventListener('lines', renderLines);
  phone.addEventListener('history', () => renderLists(ui, phone.history));
  phone.addEventListener('media', (/** @type {any} */ e) => playRemote(e.detail.stream));
  window.addEventListener('beforeunload', () => { void phone.signOut(); });
}

buildKeypad();
wire();
// Transfer: blind and attended (REFER), its progress and result.
installTransfer(phone);
// The in-call view (Mute, Keypad, quality …) and the audio settings with the echo test.
const controls = new CallControls(phone, { devices });
installDevicesView(devices, { phone, audio: ui.audio, dial: (n) => act(ui.callError, () => phone.dial(n)) });
window.addEventListener('offline', renderRegistration);
window.addEventListener('online', renderRegistration);
// History kept in the browser, focus, announcements, notifications, ?call= / tel:, keyboard dialling.
installDelivery({ phone, ui, act, pressKey });
try {
  if (localStorage.getItem(DND_KEY)) phone.setDnd(true);
} catch {
  // storage disabled
}
renderRegistration();
renderCall();
renderLines();
renderLists(ui, phone.history);
