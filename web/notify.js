// Incoming-call notifications (Notification API). Through the service worker (sw.js) when it is there:
// a persistent notification with Accept / Decline buttons where the platform shows actions; else a plain
// `new Notification` whose click brings the tab forward. Shown only while the page is not in front
// (hidden or without focus): in front, the page's own ringing panel says it. Closed when the call stops
// ringing. The pure parts (what to show, whether to) are unit-tested; the rest is the browser's API.

/** @typedef {{ title: string, options: NotificationOptions & { actions?: Array<{ action: string, title: string }>, requireInteraction?: boolean, renotify?: boolean } }} IncomingNote */

export const INCOMING_TAG = 'incoming-call';

/**
 * @param {{ displayName?: string, number?: string } | null} callerId @param {string} peer
 * @param {string} pageUrl @returns {IncomingNote}
 */
export function incomingNotification(callerId, peer, pageUrl) {
  const name = callerId?.displayName || '';
  const number = callerId?.number && callerId.number !== 'unknown' ? callerId.number : '';
  const who = name && number && name !== number ? `${name} (${number})` : name || number || peer || 'unknown caller';
  return {
    title: `Incoming call from ${who}`,
    options: {
      body: 'Web Phone: Accept or Decline',
      tag: INCOMING_TAG,
      renotify: true,
      requireInteraction: true,
      data: { url: pageUrl },
      actions: [{ action: 'accept', title: 'Accept' }, { action: 'decline', title: 'Decline' }],
    },
  };
}

/** @param {{ permission: string, hidden: boolean, focused: boolean }} s */
export function shouldNotify(s) {
  return s.permission === 'granted' && (s.hidden || !s.focused);
}

export class IncomingNotifier {
  /** @param {{ onAction: (action: 'accept' | 'decline' | 'show') => void, swUrl?: string }} opts */
  constructor(opts) {
    this.onAction = opts.onAction;
    /** @type {ServiceWorkerRegistration | null} */ this.registration = null;
    /** @type {Notification | null} */ this.plain = null;
    const sw = typeof navigator !== 'undefined' ? navigator.serviceWorker : undefined;
    if (sw && globalThis.isSecureContext) {
      sw.register(opts.swUrl ?? '/sw.js', { scope: '/' }).then((r) => { this.registration = r; }, (err) => {
        console.warn(`softphone: no service worker (${err instanceof Error ? err.message : String(err)})`);
      });
      sw.addEventListener('message', (/** @type {MessageEvent} */ e) => {
        if (e.data?.type === 'notification' && e.data.tag === INCOMING_TAG) this.onAction(e.data.action);
      });
    }
  }

  static get supported() { return typeof Notification !== 'undefined'; }

  /** Asks once, from a user gesture (the Sign-in click). */
  requestPermission() {
    if (IncomingNotifier.supported && Notification.permission === 'default') void Notification.requestPermission().catch(() => undefined);
  }

  /** @param {IncomingNote} note */
  async show(note) {
    if (!IncomingNotifier.supported) return false;
    if (!shouldNotify({ permission: Notification.permission, hidden: document.hidden, focused: document.hasFocus() })) return false;
    const registration = await this.#activeRegistration();
    if (registration) {
      try {
        await registration.showNotification(note.title, note.options);
        return true;
      } catch (err) {
        // e.g. no active worker yet: a plain notification instead
        console.warn(`softphone: service-worker notification failed (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    const { actions: _actions, ...plainOptions } = note.options;
    this.plain = new Notification(note.title, plainOptions);
    this.plain.onclick = () => { window.focus(); this.onAction('show'); };
    return true;
  }

  /** The service worker once active (showNotification needs one), waiting at most a second for it. Asked
   *  of the container, not only register()'s answer: that may still wait on an update check. */
  async #activeRegistration() {
    if (this.registration?.active) return this.registration;
    const sw = typeof navigator !== 'undefined' ? navigator.serviceWorker : undefined;
    if (!sw || !globalThis.isSecureContext) return null;
    const late = new Promise((resolve) => { setTimeout(() => resolve(null), 1000); });
    const found = /** @type {ServiceWorkerRegistration | null | undefined} */ (await Promise.race([sw.getRegistration('/'), late]));
    if (found?.active) return found;
    return /** @type {ServiceWorkerRegistration | null} */ (await Promise.race([sw.ready, late]));
  }

  close() {
    this.plain?.close();
    this.plain = null;
    void this.registration?.getNotifications({ tag: INCOMING_TAG }).then((list) => list.forEach((n) => n.close()), () => undefined);
  }
}
