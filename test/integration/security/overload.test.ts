// Overload control on a running gateway (sip.overload): the test blocks the event loop the gateway runs on
// (the same process) in bursts, as a garbage-collection storm or a CPU-bound loop would; new REGISTERs and
// INVITEs from a UDP phone then get 503 with the configured Retry-After (RFC 3261 §21.5.4) and once the
// loop runs on time again they are challenged as usual (401 / 407). Also the perf_hooks lag source itself.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/security/overload.test.ts'
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { getHeader } from '../../../gateway/sip/message/index.js';
import { eventLoopLag } from '../../../gateway/sip/transaction/overload.js';
import { freePort } from '../../support/ports.js';
import { SipUdpClient } from './sip-udp-client.js';

const GW = '127.0.150.1';
const PHONE = '127.0.150.2';

/** Keeps the event loop busy for `ms` (nothing else runs meanwhile). */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sip.overload: 503 + Retry-After while the event loop lags', () => {
  let gw: Gateway;
  let phone: SipUdpClient;

  beforeAll(async () => {
    const [http, sip] = await Promise.all([freePort('tcp'), freePort('udp')]);
    const config = parseConfig(
      {
        http: { listen: `${GW}:${http}` },
        sip: { listen: [`udp:${GW}:${sip}`], overload: { lagMs: 100, retryAfter: 9 } },
        media: { rtpPorts: '45000-45019', address: GW },
        users: [{ name: 'alice', password: 'alice-secret-150' }],
      },
      'overload-test.yaml',
    );
    gw = buildGateway(config, { logger: pino({ level: process.env.OVERLOAD_TEST_LOG ?? 'silent' }) });
    await gw.start();
    phone = await SipUdpClient.open(PHONE, { address: GW, port: sip });
  });

  afterAll(async () => {
    await phone?.close();
    await gw?.stop();
  });

  it('challenges at rest, refuses new REGISTER and INVITE under sustained lag, challenges again after', async () => {
    expect((await phone.exchange(phone.request('REGISTER')))?.status).toBe(401);
    expect((await phone.exchange(phone.request('INVITE')))?.status).toBe(407);

    // Sustained lag: 250 ms busy out of every ~270 ms.
    const blocker = setInterval(() => block(250), 20);
    const refused: { method: string; retryAfter: string | undefined }[] = [];
    try {
      const deadline = Date.now() + 10_000;
      for (const method of ['REGISTER', 'INVITE']) {
        while (Date.now() < deadline) {
          const answer = await phone.exchange(phone.request(method), 3000);
          if (answer?.status === 503) {
            refused.push({ method, retryAfter: getHeader(answer, 'Retry-After') });
            break;
          }
          expect(answer?.status, `${method} under lag`).toBe(method === 'REGISTER' ? 401 : 407); // before the lag is seen
        }
      }
    } finally {
      clearInterval(blocker);
    }
    expect(refused).toEqual([
      { method: 'REGISTER', retryAfter: '9' },
      { method: 'INVITE', retryAfter: '9' },
    ]);

    // The loop runs on time again: within two windows new requests are challenged again.
    const deadline = Date.now() + 5000;
    let status: number | undefined;
    while (Date.now() < deadline) {
      status = (await phone.exchange(phone.request('REGISTER')))?.status;
      if (status === 401) break;
      await pause(100);
    }
    expect(status).toBe(401);
    expect((await phone.exchange(phone.request('INVITE')))?.status).toBe(407);
  });
});

describe('eventLoopLag (perf_hooks): sustained lag over two windows', () => {
  it('an isolated stall does not count; stalls in consecutive windows do', async () => {
    const source = eventLoopLag(100, 10);
    try {
      // Settle: two quiet windows (on a loaded machine allow a few).
      const quietBy = Date.now() + 3000;
      while (Date.now() < quietBy && source.lagMs() >= 80) await pause(50);
      expect(source.lagMs()).toBeLessThan(80);
      block(150); // one window only
      await pause(250);
      expect(source.lagMs()).toBeLessThan(80);
      const deadline = Date.now() + 5000;
      let seen = 0;
      while (Date.now() < deadline && seen < 120) {
        block(150);
        await pause(20);
        seen = source.lagMs();
      }
      expect(seen).toBeGreaterThanOrEqual(120);
    } finally {
      source.close();
    }
  });
});
