// The incoming-call notification's way back: web/sw.js turns a click on Accept / Decline (or on the
// notification) into a message to the tab that raised it and focuses it; web/notify.js hands that message
// to the page (onAction). Both run here against fakes of the browser objects they use.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

type Handler = (event: unknown) => void;
const swHandlers = new Map<string, Handler>();
const g = globalThis as Record<string, unknown>;

function fakeWindow(url: string) {
  return { url, postMessage: vi.fn(), focus: vi.fn(() => Promise.resolve()) };
}

async function click(action: string, windows: Array<ReturnType<typeof fakeWindow>>, dataUrl?: string) {
  const waits: Promise<unknown>[] = [];
  const openWindow = vi.fn(() => Promise.resolve(null));
  (g.self as { clients: unknown }).clients = { matchAll: vi.fn(() => Promise.resolve(windows)), openWindow, claim: vi.fn() };
  const notification = { tag: 'incoming-call', data: dataUrl ? { url: dataUrl } : undefined, close: vi.fn() };
  swHandlers.get('notificationclick')!({ action, notification, waitUntil: (p: Promise<unknown>) => waits.push(p) });
  await Promise.all(waits);
  return { notification, openWindow };
}

describe('web/sw.js: notification clicks', () => {
  beforeAll(async () => {
    vi.stubGlobal('self', { addEventListener: (type: string, h: Handler) => swHandlers.set(type, h), skipWaiting: vi.fn(() => Promise.resolve()) });
    await import('../../../web/sw.js');
  });
  afterAll(() => { vi.unstubAllGlobals(); });

  it('Accept: the tab that raised it gets {action: accept} and the focus; the notification closes', async () => {
    const other = fakeWindow('http://p/other');
    const tab = fakeWindow('http://p/?x');
    const { notification } = await click('accept', [other, tab], 'http://p/?x');
    expect(notification.close).toHaveBeenCalled();
    expect(tab.postMessage).toHaveBeenCalledWith({ type: 'notification', action: 'accept', tag: 'incoming-call' });
    expect(tab.focus).toHaveBeenCalled();
    expect(other.postMessage).not.toHaveBeenCalled();
  });

  it('Decline: the message without taking the focus; a click on the body: "show"', async () => {
    const tab = fakeWindow('http://p/');
    await click('decline', [tab], 'http://p/');
    expect(tab.postMessage).toHaveBeenCalledWith({ type: 'notification', action: 'decline', tag: 'incoming-call' });
    expect(tab.focus).not.toHaveBeenCalled();
    const again = fakeWindow('http://p/');
    await click('', [again]);
    expect(again.postMessage).toHaveBeenCalledWith({ type: 'notification', action: 'show', tag: 'incoming-call' });
    expect(again.focus).toHaveBeenCalled();
  });

  it('no tab left: opens the page (not for Decline)', async () => {
    expect((await click('accept', [])).openWindow).toHaveBeenCalledWith('/');
    expect((await click('decline', [])).openWindow).not.toHaveBeenCalled();
  });
});

describe('web/notify.js: the page side', () => {
  afterAll(() => { vi.unstubAllGlobals(); });

  it('registers the service worker at / and hands its notification messages to onAction', async () => {
    const listeners: Array<(e: { data: unknown }) => void> = [];
    const register = vi.fn(() => Promise.resolve({ active: {} }));
    vi.stubGlobal('navigator', { serviceWorker: { register, addEventListener: (_t: string, l: (e: { data: unknown }) => void) => listeners.push(l) } });
    vi.stubGlobal('isSecureContext', true);
    const { IncomingNotifier } = await import('../../../web/notify.js');
    const onAction = vi.fn();
    new IncomingNotifier({ onAction });
    expect(register).toHaveBeenCalledWith('/sw.js', { scope: '/' });
    for (const l of listeners) l({ data: { type: 'notification', action: 'accept', tag: 'incoming-call' } });
    for (const l of listeners) l({ data: { type: 'notification', action: 'decline', tag: 'something-else' } });
    for (const l of listeners) l({ data: 'junk' });
    expect(onAction.mock.calls).toEqual([['accept']]);
  });
});
