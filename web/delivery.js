// How the page reaches the user and remembers (issue 10 items 4, 5, 7), wired onto Phone's events by
// app.js with one call: the call history and settings kept in the browser (storage.js), focus on the
// number after sign-in and on Accept when a call rings, screen-reader announcements, incoming-call
// notifications (notify.js, sw.js), click-to-call (`?call=`, tel: links) and keyboard dialling
// (dial-link.js). No SIP here.
import { callerLabel } from './callerid.js';
import { callTarget, keyAction, telHandlerUrl, withoutCallParam } from './dial-link.js';
import { renderLists } from './lists.js';
import { IncomingNotifier, incomingNotification } from './notify.js';
import { Store, historyKey, missedSeenKey } from './storage.js';

/**
 * @typedef {{ phone: import('./phone.js').Phone, ui: Record<string, any>,
 *             act: (errorEl: HTMLElement, fn: () => Promise<unknown>) => void, pressKey: (key: string) => void }} DeliveryDeps
 */

/** Says `text` to a screen reader through the page's polite live region (#announce). */
function announcer() {
  const region = document.getElementById('announce');
  return (/** @type {string} */ text) => {
    if (!region) return;
    // A changed text is announced; the same text twice in a row would not be: clear first.
    region.textContent = '';
    setTimeout(() => { region.textContent = text; }, 100); // not rAF: it does not run in a background tab
  };
}

/** @param {DeliveryDeps} d */
export function installDelivery(d) {
  const { phone, ui } = d;
  const store = new Store();
  const announce = announcer();
  const dial = (/** @type {string} */ number) => d.act(ui.callError, () => phone.dial(number));
  const lists = () => renderLists(ui, phone.history, { redial: dial });
  let user = '';
  let pendingCall = callTarget(location.search);
  let wasRegistered = false;

  const lastUser = store.get('lastUser', '');
  if (typeof lastUser === 'string' && lastUser && !ui.user.value) ui.user.value = lastUser;

  const notifier = new IncomingNotifier({
    onAction: (action) => {
      if (action === 'accept') d.act(ui.callError, () => phone.accept());
      else if (action === 'decline') d.act(ui.callError, () => phone.decline());
      else ui.acceptBtn.focus();
    },
  });

  const markMissedSeen = () => {
    if (!user || document.hidden || !document.hasFocus()) return;
    store.set(missedSeenKey(user), Date.now());
    void (/** @type {any} */ (navigator)).clearAppBadge?.().catch?.(() => undefined);
  };
  const showMissedBadge = () => {
    if (!user) return;
    const seen = Number(store.get(missedSeenKey(user), 0)) || 0;
    const fresh = phone.history.missedSince(seen);
    if (fresh > 0) void (/** @type {any} */ (navigator)).setAppBadge?.(fresh).catch?.(() => undefined);
  };

  ui.signin.addEventListener('submit', () => notifier.requestPermission()); // a user gesture: may ask

  phone.addEventListener('registration', () => {
    const registered = phone.registration.state === 'registered';
    if (registered && !wasRegistered) onSignedIn();
    wasRegistered = registered;
  });

  function onSignedIn() {
    user = ui.user.value.trim();
    store.set('lastUser', user);
    phone.history.restore(store.get(historyKey(user), []));
    lists();
    showMissedBadge();
    ui.number.focus();
    announce(`Signed in as ${user}`);
    try {
      /** @type {any} */ (navigator).registerProtocolHandler?.('tel', telHandlerUrl(location.origin));
    } catch {
      // not allowed here (e.g. not a secure context): tel: links stay with the system's handler
    }
    if (pendingCall) {
      const number = pendingCall;
      pendingCall = '';
      history.replaceState(history.state, '', withoutCallParam(location.href)); // a reload must not dial again
      ui.number.value = number;
      dial(number);
    }
  }

  phone.addEventListener('history', () => {
    if (user) store.set(historyKey(user), phone.history.records);
    lists();
    showMissedBadge();
  });

  /** The ringing call whose Accept got the focus (once per call: the user may move on from it). */
  let focusedRing = /** @type {unknown} */ (null);
  const focusAccept = () => {
    const ringing = phone.incoming.state === 'ringing' ? phone.lastIncoming : null;
    if (!ringing || ringing === focusedRing || ui.incoming.hidden || ui.acceptBtn.disabled) return;
    focusedRing = ringing;
    ui.acceptBtn.focus();
  };
  phone.addEventListener('lines', focusAccept); // the ringing panel is shown on the lines/call render

  phone.addEventListener('incoming', () => {
    if (phone.incoming.state === 'ringing') {
      const who = callerLabel(phone.callerId ?? { number: phone.peer, displayName: '' }) || phone.peer;
      announce(`Incoming call from ${who}`);
      focusAccept();
      void notifier.show(incomingNotification(phone.callerId, phone.peer, location.href));
    } else {
      notifier.close();
    }
  });

  phone.addEventListener('call', () => {
    const { state, reason } = phone.call;
    if (state === 'in-call') announce(`In call with ${phone.peer}`);
    else if (state === 'ended') announce(`Call ended${reason ? `: ${reason}` : ''}`);
  });

  document.addEventListener('keydown', (/** @type {KeyboardEvent} */ e) => {
    if (ui.dialer.hidden || e.defaultPrevented) return;
    const action = keyAction({ key: e.key, ctrlKey: e.ctrlKey, altKey: e.altKey, metaKey: e.metaKey, target: /** @type {any} */ (e.target) });
    if (!action) return;
    e.preventDefault();
    if (action.type === 'append') {
      if (phone.call.state === 'in-call') { if (action.char !== '+') d.pressKey(action.char); } // no DTMF for +
      else ui.number.value += action.char;
    } else if (action.type === 'backspace') {
      ui.number.value = ui.number.value.slice(0, -1);
    } else if (ui.number.value.trim() && phone.call.state !== 'in-call') {
      dial(ui.number.value);
    }
  });

  window.addEventListener('focus', markMissedSeen);
  document.addEventListener('visibilitychange', markMissedSeen);
}
