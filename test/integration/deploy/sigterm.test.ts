// Graceful stop of the real process, as `docker compose stop` does it: SIGTERM to
// `node --import tsx gateway/main.ts --config FILE`. Before exiting 0 the gateway must hang up answered
// calls (BYE to both legs, RFC 3261 §15) and remove its trunk registration (REGISTER with Expires: 0,
// RFC 3261 §10.2.2). Peers: a SIPp registrar (the trunk with register: true), a SIPp trunk that answers
// and then waits for a BYE, and the WebSocket test client as the browser.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { SipMessage } from '../../../gateway/sip/message/types.js';
import { freePort, freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { startProcess, stopAllProcesses } from '../../support/process.js';
import { startSipp, type SippHandle } from '../../support/sipp.js';
import { traceHeader } from '../../support/sipp-trace.js';
import { WsSipClient } from '../../support/ws-sip-client.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const traceDir = mkdtempSync(join(tmpdir(), 'sigterm-it-'));
const USER = { name: 'alice', password: 'alice-secret', callerId: '+15550001' };
/** The compose file's stop_grace_period is 15 s; the stop must fit well inside it. */
const GRACE_MS = 10_000;

afterAll(stopAllProcesses);

function gatewayYaml(httpPort: number, carrierPort: number, registrarPort?: number): string {
  const registrar = registrarPort === undefined ? [] : [
    { name: 'registrar', uri: `sip:127.0.0.1:${registrarPort}`, username: 'gw', password: 'reg-secret', register: true, registerExpires: 600 },
  ];
  return stringify({
    http: { listen: `127.0.0.1:${httpPort}` },
    sip: { listen: ['udp:127.0.0.1:0'] },
    media: { rtpPorts: '44000-44099', address: '127.0.0.1' },
    users: [USER],
    trunks: [...registrar, { name: 'carrier', uri: `sip:127.0.0.1:${carrierPort}` }],
    routes: [{ match: '^\\d{4,15}$', trunk: 'carrier' }],
    log: { level: 'info' },
  });
}

async function sipp(scenario: Parameters<typeof startSipp>[0]): Promise<SippHandle> {
  const handle = startSipp(scenario);
  await handle.ready;
  return handle;
}

const received = (h: SippHandle): SipMessage[] => h.messages().filter((e) => e.direction === 'received').map((e) => e.message);
const label = (m: SipMessage): string => (m.kind === 'request' ? m.method : String(m.status));

/** GET /api/status once it answers: the registrar trunk's state ('none' without one). */
async function trunkState(httpPort: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/status`);
    const body = (await res.json()) as { trunks?: Array<{ name: string; state: string }> };
    return body.trunks?.find((t) => t.name === 'registrar')?.state ?? 'none';
  } catch {
    return undefined; // not listening yet
  }
}

interface Stopped {
  /** The gateway's BYE to the browser, if it came. */
  browserBye: SipMessage;
  /** What the trunk (SIPp, waiting for our BYE) received. */
  trunk: string[];
}

/** The real process with an answered call browser → gateway → SIPp trunk; then SIGTERM. */
async function callThenSigterm(httpPort: number, carrierPort: number, registrarPort?: number): Promise<Stopped> {
  const media = await freeUdpPortPair();
  // hangup_ms 0: the trunk answers, then waits for our BYE and fails (exit ≠ 0) if none comes.
  const carrier = await sipp({ scenario: 'uas-answer', localPort: carrierPort, mediaPort: media.rtp, traceDir, timeoutS: 60, set: { hangup_ms: 0 } });
  const file = join(traceDir, `gateway-${httpPort}.yaml`);
  writeFileSync(file, gatewayYaml(httpPort, carrierPort, registrarPort));
  const gateway = startProcess(process.execPath, ['--import', 'tsx', 'gateway/main.ts', '--config', file], { cwd: ROOT, name: 'gateway' });
  await expect.poll(() => trunkState(httpPort), { timeout: 20_000, interval: 50 }).toBe(registrarPort === undefined ? 'none' : 'registered');
  const client = await WsSipClient.connect({ url: `ws://127.0.0.1:${httpPort}/sip`, user: USER.name, password: USER.password });
  try {
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    // Established at the trunk too (SIPp has our ACK). SIPp would call a BYE that arrives in the same
    // instant as the ACK "unexpected", since it is still running the steps between the two.
    await expect.poll(() => received(carrier).map(label), { timeout: 5_000, interval: 20 }).toContain('ACK');

    const stoppedAt = Date.now();
    // stop(): SIGTERM to the process group, SIGKILL only if it is still running after the grace.
    const exit = await gateway.stop({ signal: 'SIGTERM', graceMs: GRACE_MS });
    expect(exit, gateway.stderr().slice(-2000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(GRACE_MS);
    expect(gateway.stdout()).toContain('"msg":"stopping"');

    // The browser's BYE arrived over the WebSocket before the process went away (byeReceived waits
    // for it; a lost one fails the test by its timeout).
    const browserBye = await call.byeReceived;
    expect(traceHeader(browserBye, 'Call-ID')).toBe(call.callId);
    expect((await carrier.exited).code, carrier.errors()).toBe(0);
    return { browserBye, trunk: received(carrier).map(label) };
  } finally {
    await client.close();
    await gateway.stop();
  }
}

describe('SIGTERM to the gateway process', () => {
  it('hangs up an answered call: BYE to the trunk and to the browser, then exits 0', async () => {
    const [carrierPort, httpPort] = [await freeSipPort(), await freePort('tcp')];
    const { trunk } = await callThenSigterm(httpPort, carrierPort);
    // SIPp saw INVITE, ACK, then our BYE (and answered it), and finished its scenario.
    expect(trunk).toEqual(['INVITE', 'ACK', 'BYE']);
  });

  it('also removes the trunk registration: REGISTER with Expires: 0 on the same Call-ID', async () => {
    const [registrarPort, carrierPort, httpPort] = [await freeSipPort(), await freeSipPort(), await freePort('tcp')];
    const registrar = await sipp({ scenarioFile: join(import.meta.dirname, 'registrar.xml'), localPort: registrarPort, traceDir, timeoutS: 60 });
    const { trunk } = await callThenSigterm(httpPort, carrierPort, registrarPort);
    expect(trunk).toEqual(['INVITE', 'ACK', 'BYE']);

    expect((await registrar.exited).code, registrar.errors()).toBe(0);
    const [granted, removed, ...more] = received(registrar);
    expect(more).toEqual([]);
    expect([granted, removed].map((m) => m && label(m))).toEqual(['REGISTER', 'REGISTER']);
    expect(traceHeader(granted!, 'Expires')).toBe('600');
    expect(traceHeader(removed!, 'Expires')).toBe('0');
    expect(traceHeader(removed!, 'Call-ID')).toBe(traceHeader(granted!, 'Call-ID'));
    expect(traceHeader(removed!, 'Contact')).toBe(traceHeader(granted!, 'Contact'));
  });
});
