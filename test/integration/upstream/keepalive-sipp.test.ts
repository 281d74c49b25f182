// The OPTIONS keep-alive toward a trunk (gateway/upstream/keepalive.ts), whole gateway (buildGateway)
// against SIPp as the trunk, on UDP and TCP: OPTIONS arrive at the interval with Max-Forwards 70 and our
// Via sent-by, GET /api/status shows the trunk up with an RTT; SIPp stopped → down within
// interval × failures + Timer F; SIPp started again → up.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/upstream/keepalive-sipp.test.ts'
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { getVias } from '../../../gateway/sip/message/index.js';
import type { KeepaliveStatus } from '../../../gateway/upstream/index.js';
import { freeSipPort } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { until } from '../../support/netbed/wait.js';
import { startSipp, type SippHandle } from '../../support/sipp.js';
import { traceHeader, type SippTraceEntry } from '../../support/sipp-trace.js';

const traceDir = mkdtempSync(join(tmpdir(), 'keepalive-it-'));
const INTERVAL_S = 1;
const FAILURES = 2;
const T1_MS = 50; // Timer F = 64 × T1 = 3.2 s (RFC 3261 §17.1.2.2)
const TIMER_F_MS = 64 * T1_MS;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await stopAllProcesses();
});

type Kind = 'udp' | 'tcp';

async function gateway(kind: Kind, trunkPort: number): Promise<Gateway> {
  const config = parseConfig(
    {
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] },
      media: { rtpPorts: '45000-45099' },
      trunks: [{ name: 'carrier', uri: `sip:127.0.0.1:${trunkPort};transport=${kind}` }],
      log: { level: 'silent' },
    },
    'keepalive test config',
  );
  // The config file refuses an interval under 5 s; the test shortens it on the parsed config.
  config.trunks[0]!.keepalive = { interval: INTERVAL_S, failures: FAILURES };
  const gw = buildGateway(config, { logger: createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent'), timers: { t1: T1_MS } });
  cleanups.push(() => gw.stop());
  await gw.start();
  return gw;
}

async function trunk(kind: Kind, port: number): Promise<SippHandle> {
  const sipp = startSipp({ scenario: 'uas-options', localPort: port, transport: kind, calls: 1000, traceDir });
  cleanups.push(() => sipp.stop());
  await sipp.ready;
  return sipp;
}

async function keepaliveOf(gw: Gateway): Promise<KeepaliveStatus> {
  const res = await fetch(`${gw.httpUrl}api/status`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { trunks: Array<{ name: string; keepalive?: KeepaliveStatus }> };
  const k = body.trunks.find((t) => t.name === 'carrier')?.keepalive;
  if (!k) throw new Error(`no keepalive in /api/status: ${JSON.stringify(body.trunks)}`);
  return k;
}

/** The keep-alive state in /api/status becomes `state` within `ms` (polled: the gateway reports no events). */
const becomes = (gw: Gateway, state: KeepaliveStatus['state'], ms: number) =>
  until(`/api/status keepalive ${state}`, () => keepaliveOf(gw).then((k) => (k.state === state ? k : undefined)), ms);
/** An answered probe: one interval, the answer, slack for a loaded machine. */
const UP_WITHIN_MS = INTERVAL_S * 1000 + 2000;

const optionsReceived = (sipp: SippHandle): SippTraceEntry[] =>
  sipp.messages().filter((e) => e.direction === 'received' && e.message.kind === 'request');

const traceMs = (e: SippTraceEntry): number => Date.parse(e.time.replace(' ', 'T'));

describe.each(['udp', 'tcp'] as const)('trunk OPTIONS keep-alive over %s (SIPp as the trunk)', (kind) => {
  it('probes at the interval, shows up with an RTT, goes down when the trunk dies and up when it is back', async () => {
    const port = await freeSipPort();
    let sipp = await trunk(kind, port);
    const gw = await gateway(kind, port);
    expect((await keepaliveOf(gw)).state).toBe('unknown');

    const up = await becomes(gw, 'up', UP_WITHIN_MS);
    expect(up).toMatchObject({ lastCode: 200, failures: 0, interval: INTERVAL_S });
    expect(up.rttMs).toBeGreaterThanOrEqual(0);
    expect(up.rttMs).toBeLessThan(1000);

    // On the wire, as SIPp received them.
    const seen = await until('three OPTIONS at SIPp', () => {
      const r = optionsReceived(sipp);
      return r.length >= 3 ? r : undefined;
    }, 3 * INTERVAL_S * 1000 + 2000);
    const ours = gw.sipAddress(kind)!;
    for (const { message, transport } of seen) {
      expect(transport.toLowerCase()).toBe(kind);
      expect(message.kind === 'request' && message.method).toBe('OPTIONS');
      expect(traceHeader(message, 'Max-Forwards')).toBe('70');
      expect(traceHeader(message, 'Accept')).toBe('application/sdp');
      expect(getVias(message)[0]).toMatchObject({ transport: kind.toUpperCase(), host: ours.address, port: ours.port });
    }
    const gaps = seen.slice(1).map((e, i) => traceMs(e) - traceMs(seen[i]!));
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(INTERVAL_S * 1000 * 0.7);
      expect(gap).toBeLessThan(INTERVAL_S * 1000 * 1.6);
    }

    // The trunk dies: down within interval × failures + Timer F (plus 1 s of polling slack).
    await sipp.stop();
    const down = await becomes(gw, 'down', INTERVAL_S * 1000 * FAILURES + TIMER_F_MS + 1000);
    expect(down.failures).toBeGreaterThanOrEqual(FAILURES);
    // UDP: nothing answers, Timer F fires (408); TCP: the connection is refused (503).
    expect(down.lastCode).toBe(kind === 'udp' ? 408 : 503);

    // It comes back on the same port: up again, and the new SIPp saw the probes.
    sipp = await trunk(kind, port);
    const back = await becomes(gw, 'up', UP_WITHIN_MS);
    expect(back).toMatchObject({ lastCode: 200, failures: 0 });
    expect(optionsReceived(sipp).length).toBeGreaterThanOrEqual(1);
    expect(sipp.errors()).toBe('');
  }, 40_000);
});
