// End to end (issue 10 item 3, the gateway's side): the quality panel shows, beside the browser's own
// getStats figures, what the gateway measured on both legs (GET /api/me/calls, signed in as alice), so a
// person can tell whose connection loses audio. Real Chromium through the gateway to baresip
// (midcall-rig.ts). Loss is made by nftables in this test's own network namespace (`numgen random mod 10
// == 0` drops 1 packet in 10): first on the far leg (baresip → gateway): the panel's "From the other
// side" line shows ~10 % while "Gateway saw from you" stays ~0 — although the browser itself hears the
// gaps (the gateway relays them), so getStats alone could not tell; then on the page's own leg (page →
// gateway): the other way round.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/e2e/page-quality.test.ts'
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sh } from '../support/netbed/ns.js';
import { until } from '../support/netbed/wait.js';
import { STEP_TIMEOUT, hangUp, withDiagnostics } from './helpers.js';
import { startRig, type MidcallRig } from './midcall-rig.js';

/** baresip's RTP ports (midcall-rig.ts) and the gateway's (e2eConfig). */
const FAR_RTP = '31000-31999';
const GATEWAY_RTP = '40000-40999';
const TABLE = 'pagequality';

/** Drops 1 packet in 10 of what matches `match`, on the way in (nftables input hook: every packet on lo
 *  passes it). Not on the way out: a packet dropped in the output hook fails the sender's sendmsg (EPERM),
 *  and Chromium sends it again — the gateway would then see no loss at all. */
async function dropOneInTen(match: string): Promise<void> {
  await sh('nft', ['-f', '-'], `table inet ${TABLE} {\n chain in {\n  type filter hook input priority 0;\n  ${match} numgen random mod 10 == 0 counter drop\n }\n}\n`);
}
async function dropped(): Promise<number> {
  return Number(/packets (\d+)/.exec(await sh('nft', ['list', 'table', 'inet', TABLE]))?.[1] ?? 0);
}
const stopDropping = () => sh('nft', ['delete', 'table', 'inet', TABLE]).catch(() => undefined);

interface Panel {
  you: number | null;
  far: number | null;
  youText: string;
  farText: string;
  verdict: string;
  /** The browser's own figure: loss in what it receives. */
  browserLoss: number | null;
}

/** The last panel read (a timed-out wait says what it saw). */
let last: Panel | undefined;
let gatewayUrl = '';
async function awaitPanel(what: string, ok: (p: Panel) => boolean, page: Page): Promise<Panel> {
  return until(what, async () => {
    last = await panel(page);
    return ok(last) ? last : undefined;
  }, STEP_TIMEOUT).catch(async (err: Error) => {
    const nft = await sh('nft', ['list', 'table', 'inet', TABLE]).catch(() => 'no table');
    const api = await fetch(new URL('/api/me/calls', gatewayUrl), { headers: { authorization: `Basic ${Buffer.from('alice:alice').toString('base64')}` } }).then((r) => r.text()).catch(String);
    throw new Error(`${err.message}; last seen: ${JSON.stringify(last)}; ${nft}; api: ${api}`);
  });
}

async function panel(page: Page): Promise<Panel> {
  return page.evaluate(() => {
    const q = (sel: string) => document.querySelector(`#quality-panel ${sel}`);
    const num = (v: string | null | undefined) => (v ? Number(v) : null);
    return {
      you: num(q('[data-gateway="you"]')?.getAttribute('data-loss')),
      far: num(q('[data-gateway="far"]')?.getAttribute('data-loss')),
      youText: q('[data-gateway="you"]')?.textContent ?? '',
      farText: q('[data-gateway="far"]')?.textContent ?? '',
      verdict: q('[data-gateway="verdict"]')?.textContent ?? '',
      browserLoss: num(q('[data-figure="loss"]')?.getAttribute('data-value')),
    };
  });
}
declare const document: { querySelector(s: string): { getAttribute(n: string): string | null; textContent: string | null } | null };

describe('e2e: the gateway\'s figures for both legs in the quality panel', () => {
  let rig: MidcallRig;
  let page: Page;

  beforeAll(async () => {
    rig = await startRig();
    page = rig.page;
    gatewayUrl = rig.gateway.httpUrl;
  });
  afterEach(stopDropping);
  afterAll(() => rig?.stop());

  it('10 % lost on the far leg: "From the other side" shows it, "from you" stays ~0; 10 % lost from the page: the other way round', async () => {
    await withDiagnostics(rig.diagnostics, async () => {
      await rig.callFar(page);
      await page.locator('#quality-btn').click();
      const clean = await awaitPanel('the gateway\'s lines for both legs, clean', (p) => p.you === 0 && p.far === 0, page);
      expect(clean.youText).toMatch(/^Gateway saw from you: loss 0\.0 %, jitter \d+ ms/);
      expect(clean.farText).toMatch(/^From the other side: loss 0\.0 %, jitter \d+ ms.*MOS 4\.\d$/);
      expect(clean.verdict).toBe('');

      // baresip → gateway only (the far party's audio and RTCP): 1 packet in 10, at random.
      await dropOneInTen(`udp sport ${FAR_RTP} udp dport ${GATEWAY_RTP}`);
      const far = await awaitPanel('the far side\'s loss in the panel, none from the page', (p) => p.far !== null && p.far >= 5 && p.far <= 16 && p.you !== null && p.you <= 1, page);
      expect(await dropped()).toBeGreaterThan(0);
      expect(far.verdict).toMatch(/other side.*not yours/);
      expect(far.farText).toMatch(/MOS [1-3]\.\d$/); // G.711 at 10 % random loss: ≈ 3.4
      console.info(`far leg lossy: gateway from the far side ${far.far} %, from the page ${far.you} %; the browser's own received loss ${far.browserLoss} %`);
      await stopDropping();

      // page → gateway only (the browser's audio to the gateway's ports, not baresip's): 1 in 10.
      await dropOneInTen(`udp dport ${GATEWAY_RTP} udp sport != ${FAR_RTP}`);
      const mine = await awaitPanel('the page\'s own loss in the panel, none from the far side', (p) => p.you !== null && p.you >= 5 && p.you <= 16 && p.far !== null && p.far <= 1, page);
      expect(mine.verdict).toMatch(/^Your connection/);
      console.info(`page leg lossy: gateway from the page ${mine.you} %, from the far side ${mine.far} %`);
      await stopDropping();
      expect(await hangUp(page)).toBe('Hung up');
    });
  });
});
