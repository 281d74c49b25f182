// The page's service worker (scope `/`). It does not hold the SIP connection — the tab does, also in the
// background, and rings there (notify.js) — it makes the incoming-call notification a persistent one
// that can carry Accept / Decline buttons (the Notification constructor cannot) and survives a locked
// screen, and routes a click on it back to the page: focus the tab, then tell it which button.
/// <reference lib="webworker" />
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

sw.addEventListener('install', () => { void sw.skipWaiting(); });
sw.addEventListener('activate', (event) => { event.waitUntil(sw.clients.claim()); });

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const action = event.action === 'accept' || event.action === 'decline' ? event.action : 'show';
  const tag = event.notification.tag;
  event.waitUntil((async () => {
    const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
    // The tab that raised it: the notification's data names its URL; else the first window of ours.
    const url = event.notification.data?.url;
    const target = windows.find((w) => w.url === url) ?? windows[0];
    if (!target) {
      if (action !== 'decline') await sw.clients.openWindow('/');
      return;
    }
    target.postMessage({ type: 'notification', action, tag });
    if (action !== 'decline') await target.focus().catch(() => undefined);
  })());
});
