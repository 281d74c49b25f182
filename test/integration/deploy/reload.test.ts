// SIGHUP to the real gateway process (the built bundle on plain Node): the config file is read again.
// - A new route takes effect for the next call while a call up through the old route continues (SIPp
//   phones calling through SIPp trunks; the first call is still there to be hung up at the end).
// - An invalid file is refused, logged at error naming the file and the key, and the old one keeps working.
// - A renewed certificate (the same paths, new files: a Let's Encrypt renewal) is presented by the next
//   TLS handshake on HTTPS and on the SIP TLS listener; a certificate whose key does not match is refused.
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { SipMessage } from '../../../gateway/sip/message/types.js';
import { freePort, freeSipPort } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { startSipp, type SippHandle, type SippOptions } from '../../support/sipp.js';
import { createTestPki, type TestPki } from '../../support/tls.js';
import { buildBundle, startBuiltGateway } from './production-gateway.js';

const GW = '127.0.110.1';
const traceDir = mkdtempSync(join(tmpdir(), 'reload-it-'));
const USER = { name: 'alice', password: 'alice-secret' };
let bundle: string;

beforeAll(() => {
  bundle = buildBundle('build/test-reload/main.js');
});
afterAll(stopAllProcesses);

async function sipp(o: Omit<SippOptions, 'traceDir'>): Promise<SippHandle> {
  const handle = startSipp({ traceDir, timeoutS: 60, ...o });
  await handle.ready;
  return handle;
}

const received = (h: SippHandle): string[] =>
  h.messages().filter((e) => e.direction === 'received').map((e) => e.message).map((m: SipMessage) => (m.kind === 'request' ? m.method : String(m.status)));

function config(ports: { http: number; sip: number; first: number; second: number }, routeTo: string): Record<string, unknown> {
  return {
    http: { listen: `${GW}:${ports.http}` },
    sip: { listen: [`udp:${GW}:${ports.sip}`] },
    media: { rtpPorts: '44100-44199', address: GW, inactivityTimeout: 0 },
    users: [USER],
    trunks: [
      { name: 'first', uri: `sip:127.0.110.2:${ports.first}`, keepalive: false },
      { name: 'second', uri: `sip:127.0.110.3:${ports.second}`, keepalive: false },
    ],
    routes: [{ match: '^\\d{4,15}$', trunk: routeTo }],
    log: { level: 'info' },
  };
}

/** A SIPp phone calling 5551234 as alice; hangup_ms 0: it waits for the gateway's BYE. */
function phone(sipPort: number, localPort: number, hangupMs: number, ip: string): Promise<SippHandle> {
  // -auth_uri: SIPp's digest uri is remote_ip:remote_port by default, not the Request-URI (RFC 3261 §22.4)
  const args = ['-auth_uri', `5551234@${GW}:${sipPort}`];
  return sipp({ scenario: 'uac-auth', localIp: ip, localPort, remote: `${GW}:${sipPort}`, service: '5551234', auth: { username: USER.name, password: USER.password }, set: { hangup_ms: hangupMs }, args });
}

async function callsUp(httpPort: number): Promise<number | undefined> {
  const res = await fetch(`http://${GW}:${httpPort}/api/status`).catch(() => undefined);
  return res?.ok ? ((await res.json()) as { calls?: number }).calls : undefined;
}

describe('SIGHUP: routes', () => {
  it('a new route takes the next call while the call up continues; an invalid file is refused and the old one kept', async () => {
    const ports = { http: await freePort('tcp'), sip: await freeSipPort(), first: await freeSipPort(), second: await freeSipPort() };
    // Trunk "first" answers and waits for our BYE; "second" takes two calls, each hung up by the phone.
    const first = await sipp({ scenario: 'uas-answer', localIp: '127.0.110.2', localPort: ports.first, set: { hangup_ms: 0 } });
    const second = await sipp({ scenario: 'uas-answer', localIp: '127.0.110.3', localPort: ports.second, calls: 2, set: { hangup_ms: 0 } });
    const gw = await startBuiltGateway(bundle, config(ports, 'first'), 'reload-routes');
    onTestFailed(() => {
      process.stderr.write(`gateway log:\n${gw.process.stdout().slice(-4000)}\n${gw.process.stderr().slice(-2000)}\n`);
    });

    const call1 = await phone(ports.sip, await freeSipPort(), 0, '127.0.110.4');
    await expect.poll(() => received(first), { timeout: 10_000, interval: 20 }).toContain('ACK');

    // The route now names "second": SIGHUP.
    gw.write(config(ports, 'second'));
    const mark = gw.lines().length;
    process.kill(gw.process.pid, 'SIGHUP');
    const reloaded = await gw.waitFor('config reloaded', mark);
    expect(reloaded.changed).toEqual(['routes']);

    const call2 = await phone(ports.sip, await freeSipPort(), 300, '127.0.110.5');
    expect((await call2.exited).code, call2.errors()).toBe(0);
    expect(received(second)).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(received(first)).toEqual(['INVITE', 'ACK']); // the first call is still up, nothing new there
    expect(await callsUp(ports.http)).toBe(1);

    // An invalid file: a route naming no trunk. Refused, at error, naming the file and the key.
    const broken = config(ports, 'first');
    (broken.routes as Array<Record<string, unknown>>)[0]!.trunk = 'nowhere';
    gw.write(broken);
    const mark2 = gw.lines().length;
    process.kill(gw.process.pid, 'SIGHUP');
    const refused = await gw.waitFor('config reload refused', mark2);
    expect(refused.level).toBe('error');
    expect(refused.msg).toContain(gw.file);
    expect(refused.msg).toContain('routes[0].trunk');
    expect(gw.lines().slice(mark2).some((l) => l.msg === 'config reloaded')).toBe(false);

    // The running config (route → second) still works.
    const call3 = await phone(ports.sip, await freeSipPort(), 300, '127.0.110.6');
    expect((await call3.exited).code, call3.errors()).toBe(0);
    expect((await second.exited).code, second.errors()).toBe(0);
    expect(received(second)).toEqual(['INVITE', 'ACK', 'BYE', 'INVITE', 'ACK', 'BYE']);

    // The first call lived through both reloads: the graceful stop hangs it up on both legs.
    expect(received(first)).toEqual(['INVITE', 'ACK']);
    expect(await gw.process.stop({ signal: 'SIGTERM', graceMs: 15_000 })).toEqual({ code: 0, signal: null });
    expect((await call1.exited).code, call1.errors()).toBe(0);
    expect((await first.exited).code, first.errors()).toBe(0);
    expect(received(first)).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(received(call1)).toContain('BYE');
  });
});

/** The SHA-256 fingerprint of the certificate a TLS server presents. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: GW, port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

const fingerprint = (pki: TestPki): string => new X509Certificate(pki.cert).fingerprint256;

describe('SIGHUP: TLS certificates', () => {
  let pkis: TestPki[] = [];
  afterAll(() => pkis.forEach((p) => p.remove()));

  it('serves a renewed certificate on HTTPS and SIP TLS after SIGHUP; a mismatched key is refused', async () => {
    pkis = [createTestPki('before'), createTestPki('renewed')];
    const [before, renewed] = pkis as [TestPki, TestPki];
    const dir = mkdtempSync(join(tmpdir(), 'reload-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const install = (c: string, k: string): void => {
      copyFileSync(c, cert);
      copyFileSync(k, key);
    };
    install(before.serverCert, before.serverKey);
    const [https, sipTls] = [await freePort('tcp'), await freePort('tcp')];
    const cfg = {
      http: { listen: `${GW}:${https}`, tls: { cert, key } },
      sip: { listen: [`udp:${GW}:${await freeSipPort()}`, `tls:${GW}:${sipTls}`] },
      media: { rtpPorts: '44200-44299', address: GW },
      users: [USER],
      log: { level: 'info' },
    };
    const gw = await startBuiltGateway(bundle, cfg, 'reload-tls');
    expect(await presented(https)).toBe(fingerprint(before));
    expect(await presented(sipTls)).toBe(fingerprint(before));

    // The renewal replaces the files in place; the config file is unchanged.
    install(renewed.serverCert, renewed.serverKey);
    const mark = gw.lines().length;
    process.kill(gw.process.pid, 'SIGHUP');
    expect((await gw.waitFor('config reloaded', mark)).changed).toEqual(['http.tls']);
    expect(await presented(https)).toBe(fingerprint(renewed));
    expect(await presented(sipTls)).toBe(fingerprint(renewed));

    // A half-done renewal (new certificate, old key): refused, naming the key, the renewed one kept.
    install(before.serverCert, renewed.serverKey);
    const mark2 = gw.lines().length;
    process.kill(gw.process.pid, 'SIGHUP');
    const refused = await gw.waitFor('config reload refused', mark2);
    expect(refused.level).toBe('error');
    expect(refused.msg).toContain('http.tls.key');
    expect(await presented(https)).toBe(fingerprint(renewed));
    expect(await presented(sipTls)).toBe(fingerprint(renewed));
    expect(await gw.process.stop({ signal: 'SIGTERM', graceMs: 15_000 })).toEqual({ code: 0, signal: null });
  });
});
