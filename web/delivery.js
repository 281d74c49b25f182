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
import { DEVICE_KEY, deviceToken, issueDeviceToken, revokeDeviceToken } from './storage-device.js';

/**
 * @typedef {{ phone: import('./phone.js').Phone, ui: any,
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
  const s = { user: '', pendingCall: callTarget(location.search) };

  const lastUser = store.get('lastUser', '');
  if (typeof lastUser === 'string' && lastUser && !ui.user.value) ui.user.value = lastUser;
  const notifier = incomingNotifier(d);
  const badge = missedBadge(phone, store, s);
  const device = installDeviceSignIn(d, store, notifier, () => onSignedIn());
  device.resume();

  function onSignedIn() {
    s.user = ui.user.value.trim();
    store.set('lastUser', s.user);
    device.keepToken(s.user);
    phone.history.restore(store.get(historyKey(s.user), []));
    lists();
    badge.show();
    ui.number.focus();
    announce(`Signed in as ${s.user}`);
    afterSignIn(s, ui, dial);
  }

  phone.addEventListener('history', () => {
    if (s.user) store.set(historyKey(s.user), phone.history.records);
    lists();
    badge.show();
  });
  installRingAnnouncements(d, notifier, announce);
  installKeyboard(d, dial);
  window.addEventListener('focus', badge.markSeen);
  document.addEventListener('visibilitychange', badge.markSeen);
}

/** The incoming-call notification's buttons: Accept, Decline, or the page's Accept focused. @param {DeliveryDeps} d */
function incomingNotifier(d) {
  const { phone, ui } = d;
  return new IncomingNotifier({
    onAction: (action) => {
      if (action === 'accept') d.act(ui.callError, () => phone.accept());
      else if (action === 'decline') d.act(ui.callError, () => phone.decline());
      else ui.acceptBtn.focus();
    },
  });
}

/** The app badge: missed calls since the user last looked at the page.
 *  @param {DeliveryDeps['phone']} phone @param {Store} store @param {{ user: string }} s */
function missedBadge(phone, store, s) {
  const markSeen = () => {
    if (!s.user || document.hidden || !document.hasFocus()) return;
    store.set(missedSeenKey(s.user), Date.now());
    void (/** @type {any} */ (navigator)).clearAppBadge?.().catch?.(() => undefined);
  };
  const show = () => {
    if (!s.user) return;
    const seen = Number(store.get(missedSeenKey(s.user), 0)) || 0;
    const fresh = phone.history.missedSince(seen);
    if (fresh > 0) void (/** @type {any} */ (navigator)).setAppBadge?.(fresh).catch?.(() => undefined);
  };
  return { markSeen, show };
}

/** After sign-in: this page as the tel: handler, and the number a `?call=` link asked for dialled once.
 *  @param {{ pendingCall: string }} s @param {any} ui @param {(number: string) => void} dial */
function afterSignIn(s, ui, dial) {
  try {
    /** @type {any} */ (navigator).registerProtocolHandler?.('tel', telHandlerUrl(location.origin));
  } catch {
    // not allowed here (e.g. not a secure context): tel: links stay with the system's handler
  }
  if (s.pendingCall) {
    const number = s.pendingCall;
    s.pendingCall = '';
    history.replaceState(history.state, '', withoutCallParam(location.href)); // a reload must not dial again
    ui.number.value = number;
    dial(number);
  }
}

/** "Keep me signed in": a device token instead of the password (storage-device.js). `onSignedIn` on each
 *  new registration; resume() signs in with a kept token; keepToken(user) trades the password just sent.
 *  @param {DeliveryDeps} d @param {Store} store @param {IncomingNotifier} notifier @param {() => void} onSignedIn */
function installDeviceSignIn(d, store, notifier, onSignedIn) {
  const { phone, ui } = d;
  const keep = /** @type {HTMLInputElement | null} */ (document.getElementById('keep-signed-in'));
  let device = deviceToken(store.get(DEVICE_KEY, null), Date.now());
  let usingDevice = false;
  /** The Sign-in form just sent (the password only with "keep me signed in", held until it is traded for a
   *  device token); null for a sign-in with the kept token or a registration renewed. */
  let submitted = /** @type {{ password: string } | null} */ (null);
  const forgetDevice = () => {
    const old = device;
    device = null;
    usingDevice = false;
    store.remove(DEVICE_KEY);
    if (old) void revokeDeviceToken(old);
  };

  ui.signin.addEventListener('submit', () => {
    notifier.requestPermission(); // a user gesture: may ask
    usingDevice = false;
    submitted = { password: keep?.checked ? String(ui.password.value) : '' };
  });
  ui.signoutBtn.addEventListener('click', forgetDevice); // Sign out (not a closed tab) revokes the token

  // The gateway no longer takes the token (revoked, expired, restarted): forget it, ask for the password.
  onRegistration(phone, onSignedIn, () => {
    if (!usingDevice) return;
    forgetDevice();
    ui.signinError.textContent = 'Signed out on this device: sign in again';
  });

  return {
    resume() {
      if (!device) return;
      const t = device;
      ui.user.value = t.user;
      if (keep) keep.checked = true;
      usingDevice = true;
      d.act(ui.signinError, () => phone.signIn({ user: t.user, password: t.token, authUser: t.username }));
    },
    /** @param {string} user */
    keepToken(user) {
      if (!submitted) return;
      const { password } = submitted;
      submitted = null;
      if (device) forgetDevice(); // a sign-in with the password replaces any token kept before
      if (!password) return;
      void issueDeviceToken(user, password).then((t) => {
        if (t && phone.registration.state === 'registered') {
          device = t;
          store.set(DEVICE_KEY, t);
        }
      });
    },
  };
}

/** `onSignedIn` when the phone becomes registered; `refused` when a registration fails with 401/403.
 *  @param {DeliveryDeps['phone']} phone @param {() => void} onSignedIn @param {() => void} refused */
function onRegistration(phone, onSignedIn, refused) {
  let wasRegistered = false;
  phone.addEventListener('registration', () => {
    const registered = phone.registration.state === 'registered';
    if (registered && !wasRegistered) onSignedIn();
    wasRegistered = registered;
    const reason = String(phone.registration.reason ?? '');
    if (phone.registration.state === 'failed' && /40[13]/.test(reason)) refused();
  });
}

/** Focus on Accept when a call rings, the screen reader told of ringing and call states, the notification.
 *  @param {DeliveryDeps} d @param {IncomingNotifier} notifier @param {(text: string) => void} announce */
function installRingAnnouncements(d, notifier, announce) {
  const { phone, ui } = d;
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
}

/** Keyboard dialling (dial-link.js keyAction): digits, Backspace, Enter; DTMF while in a call.
 *  @param {DeliveryDeps} d @param {(number: string) => void} dial */
function installKeyboard(d, dial) {
  const { phone, ui } = d;
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
}
