// The gateway with http.tls: the page, the status API and /sip over HTTPS/WSS only.
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import type { Logger } from '../../../gateway/log.js';
import { startProcess, stopAllProcesses } from '../../support/process.js';
import { createTestPki, type TestPki } from '../../support/tls.js';
import { WsSipClient } from '../../support/ws-sip-client.js';

const USER = { name: 'alice', password: 'alice-secret' };
const ROOT = resolve(import.meta.dirname, '..', '..', '..');

function config(tls: { cert: string; key: string }) {
  return parseConfig(
    {
      http: { listen: '127.0.0.1:0', tls },
      sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] },
      media: { rtpPorts: '43000-43099', address: '127.0.0.1' },
      users: [USER],
      log: { level: 'silent' },
    },
    'test.yaml',
  );
}

/** A debug logger whose JSON lines land in `lines`. */
function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino<never>({ level: 'debug', base: undefined }, sink), lines };
}

function get(url: string, ca: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolvePromise, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      })
      .on('error', reject);
  });
}

function plainWsAttempt(url: string): Promise<string> {
  return new Promise((resolvePromise) => {
    const ws = new WebSocket(url, 'sip');
    ws.once('open', () => {
      ws.terminate();
      resolvePromise('opened');
    });
    ws.once('error', (err) => resolvePromise(`error: ${err.message}`));
  });
}

describe('HTTPS and WSS (http.tls)', () => {
  let pki: TestPki;
  let gateway: Gateway | undefined;
  beforeAll(() => {
    pki = createTestPki('https');
  });
  afterAll(async () => {
    await stopAllProcesses();
    pki.remove();
  });
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
  });

  it('serves GET / and /api/status over https, registers a client over wss (flow wss), refuses plain ws', async () => {
    const { logger, lines } = captureLogger();
    gateway = buildGateway(config({ cert: pki.serverCert, key: pki.serverKey }), { logger });
    await gateway.start();
    expect(gateway.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(gateway.httpUrl, pki.ca);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/text\/html/);
    const status = await get(`${gateway.httpUrl}api/status`, pki.ca);
    expect(status.status).toBe(200);
    const wssAddress = JSON.parse(status.body).sip.wss;
    expect(wssAddress.port).toBe(Number(new URL(gateway.httpUrl).port));
    expect(JSON.parse(status.body).sip.ws).toBeUndefined();

    const wssUrl = gateway.httpUrl.replace(/^https/, 'wss') + 'sip';
    const client = await WsSipClient.connect({ url: wssUrl, user: USER.name, password: USER.password, ws: { ca: pki.ca } });
    try {
      const res = await client.register();
      expect(res.status).toBe(200);
      expect(gateway.status().registrations).toBe(1);
      // The transport labelled the REGISTER's flow 'wss' (flow ids are "<kind>#n").
      const registerIn = lines.filter((l) => l.msg === 'sip in' && String(l.summary).startsWith('REGISTER'));
      expect(registerIn.length).toBeGreaterThan(0);
      expect(registerIn.every((l) => /^wss#\d+$/.test(String(l.flow)))).toBe(true);
    } finally {
      await client.close();
    }

    const plain = gateway.httpUrl.replace(/^https/, 'ws') + 'sip';
    expect(await plainWsAttempt(plain)).toMatch(/^error: /);
    // Nor is the page reachable over plain http on that port.
    const plainHttp = await fetch(gateway.httpUrl.replace(/^https/, 'http')).then(
      (r) => `status ${r.status}`,
      (err: Error) => `error: ${err.message}`,
    );
    expect(plainHttp).toMatch(/^error: /);
  });

  it('an untrusting client cannot complete the handshake (the certificate is the configured one)', async () => {
    gateway = buildGateway(config({ cert: pki.serverCert, key: pki.serverKey }));
    await gateway.start();
    const other = createTestPki('other');
    try {
      await expect(get(gateway.httpUrl, other.ca)).rejects.toThrow(/certificate/);
    } finally {
      other.remove();
    }
  });

  it('start-up fails naming http.tls.cert / http.tls.key and the file', async () => {
    const missing = join(pki.dir, 'missing.pem');
    const notPem = join(pki.dir, 'not.pem');
    writeFileSync(notPem, 'hello\n');
    const broken = join(pki.dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const cases: Array<[{ cert: string; key: string }, RegExp]> = [
      [{ cert: missing, key: pki.serverKey }, /^http\.tls\.cert: .*missing\.pem: cannot read: ENOENT/],
      [{ cert: broken, key: pki.serverKey }, /^http\.tls\.cert: .*broken\.pem: not a valid certificate/],
      [{ cert: pki.serverCert, key: notPem }, /^http\.tls\.key: .*not\.pem: not a PEM file/],
      [{ cert: pki.serverCert, key: pki.serverCert }, /^http\.tls\.key: .*server\.pem: not a valid private key/],
      [{ cert: pki.caCert, key: pki.serverKey }, /^http\.tls\.key: .*server\.key: does not match the certificate .*ca\.pem/],
    ];
    for (const [tls, message] of cases) {
      const g = buildGateway(config(tls));
      await expect(g.start()).rejects.toThrow(message);
      await g.stop();
    }
  });

  it('main.ts prints the https:// page URL first, and exits 1 naming http.tls.cert when it is unreadable', async () => {
    // Relative PEM paths are relative to the config file (the loader resolves them).
    const yaml = (cert: string) =>
      [
        'http:',
        '  listen: "127.0.0.1:0"',
        `  tls: { cert: "${cert}", key: "server.key" }`,
        'sip:',
        '  listen: ["udp:127.0.0.1:0"]',
        'media:',
        '  rtpPorts: "43100-43199"',
        'log:',
        '  level: silent',
        '',
      ].join('\n');
    writeFileSync(join(pki.dir, 'good.yaml'), yaml('server.pem'));
    writeFileSync(join(pki.dir, 'bad.yaml'), yaml('nope.pem'));
    const run = (file: string) => startProcess(process.execPath, ['--import', 'tsx', 'gateway/main.ts', '--config', join(pki.dir, file)], { cwd: ROOT, name: 'gateway' });

    const bad = run('bad.yaml');
    const exit = await bad.exited;
    expect(exit.code).toBe(1);
    expect(bad.stderr()).toContain(`http.tls.cert: ${join(pki.dir, 'nope.pem')}: cannot read`);

    const good = run('good.yaml');
    try {
      await expect.poll(() => good.stdout(), { timeout: 20_000 }).toMatch(/\n/);
      expect(good.stdout().split('\n')[0]).toMatch(/^Gateway page: https:\/\/127\.0\.0\.1:0\/ /);
      expect(good.running).toBe(true);
    } finally {
      await good.stop();
    }
  });
});
