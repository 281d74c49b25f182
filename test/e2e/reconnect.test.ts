// End to end (issue 3): a browser's binding dies with its WebSocket, so when the gateway restarts
// the page must connect and REGISTER again by itself — and then ring for calls again.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import type { GatewayConfig } from '../../gateway/config/schema.js';
import { freePort } from '../support/baresip.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { STEP_TIMEOUT, e2eConfig, openPage, signIn, startGateway } from './helpers.js';

declare const window: { softphone: { state(): string; stateReason(): string } };

describe('e2e: the page registers again after a gateway restart', () => {
  let config: GatewayConfig;
  let gateway: Gateway | undefined;
  let browser: BrowserHandle;

  beforeAll(async () => {
    // A fixed HTTP port: the page reconnects to the URL it was loaded from.
    config = await e2eConfig({ http: { listen: `127.0.0.1:${await freePort()}` } });
    gateway = await startGateway(config);
    browser = await launchBrowser();
    await openPage(browser.page, gateway.httpUrl);
    await signIn(browser.page, 'alice', 'alice');
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  it('shows the lost connection, reconnects with backoff and is registered again', async () => {
    const { page } = browser;
    await gateway!.stop();
    gateway = undefined;
    await page.waitForFunction(() => window.softphone.state() !== 'registered', null, { timeout: STEP_TIMEOUT });
    expect(await page.textContent('#reg-state')).toMatch(/^Reconnecting…/);
    expect(await page.isHidden('#signin')).toBe(true);

    gateway = await startGateway(config);
    await page.waitForFunction(() => window.softphone.state() === 'registered', null, { timeout: STEP_TIMEOUT });
    await vi.waitFor(() => expect(gateway!.status().registrations).toBe(1), { timeout: 10_000, interval: 100 });
    expect(await page.textContent('#reg-state')).toBe('Registered as alice@127.0.0.1');
  });
});
