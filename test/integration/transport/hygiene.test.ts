// Connection hygiene on real sockets (issue 8 item 5): caps per address and in total (trunks exempt),
// first-message / slow-loris / idle deadlines, CRLF keep-alives, the TLS handshake deadline, and on the
// WebSocket endpoint the Origin allow-list, the cap (503) and the per-address message rate (1008).
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '../../../gateway/log.js';
import { createTransport, type TransportOptions } from '../../../gateway/sip/transport/index.js';
import type { SipTransport } from '../../../gateway/sip/transport/types.js';
import { createTestPki, type TestPki } from '../../support/tls.js';
import { collect, request, startRig, type Rig } from './helpers.js';

const TRUNK = '127.0.0.9';

/** A TCP connection from a chosen loopback source; resolves once connected. */
function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A connection attempt that may be reset before or after it is established. */
function attemptFrom(port: number, localAddress: string): net.Socket {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  return socket;
}

/** Resolves when the socket is closed (by the far end: RST or FIN), with the time it took. */
function closed(socket: net.Socket): Promise<number> {
  const t0 = Date.now();
  socket.on('error', () => undefined);
  // A FIN alone leaves our half open: end it so 'close' follows.
  socket.on('end', () => socket.end());
  return new Promise((resolve) => (socket.destroyed ? resolve(0) : socket.once('close', () => resolve(Date.now() - t0))));
}

const options = (via: string): string => request({ via: `SIP/2.0/TCP ${via}:5060;branch=z9hG4bK${Math.random().toString(36).slice(2)}` });

describe('connection hygiene: TCP', { timeout: 15_000 }, () => {
  let rig: Rig | undefined;
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await rig?.close();
    rig = undefined;
  });
  const open = async (localAddress: string): Promise<net.Socket> => {
    const s = await connectFrom(rig!.tcpPort, localAddress);
    sockets.push(s);
    return s;
  };

  it('resets the connection over the per-address cap at once; other addresses and a trunk are admitted', async () => {
    rig = await startRig({ limits: { maxPerAddress: 3 }, exempt: (ip) => ip === TRUNK });
    const seen = collect(rig.transport);
    const kept = [await open('127.0.0.66'), await open('127.0.0.66'), await open('127.0.0.66')];
    const over = attemptFrom(rig.tcpPort, '127.0.0.66');
    expect(await closed(over)).toBeLessThan(1000); // at once, not by a deadline
    // The admitted ones still carry SIP; another source and the trunk (5 > cap) are admitted too.
    const others = [await open('127.0.0.67'), ...(await Promise.all([1, 2, 3, 4, 5].map(() => open(TRUNK))))];
    [...kept, ...others].forEach((s, i) => s.write(options(`10.0.0.${i}`)));
    await seen.waitFor(kept.length + others.length);
    expect([...kept, ...others].every((s) => !s.destroyed)).toBe(true);
  });

  it('resets connections over the global cap, whatever their source', async () => {
    rig = await startRig({ limits: { maxConnections: 4, maxPerAddress: 2 } });
    await Promise.all(['127.0.0.70', '127.0.0.70', '127.0.0.71', '127.0.0.71'].map(open));
    const over = attemptFrom(rig.tcpPort, '127.0.0.72');
    expect(await closed(over)).toBeLessThan(1000); // at once, not by a deadline
  });

  it('closes a connection that sends no complete message within firstMessageMs', async () => {
    rig = await startRig({ limits: { firstMessageMs: 300 } });
    const s = await open('127.0.0.80');
    s.write('OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\n'); // a start, never finished
    const took = await closed(s);
    expect(took).toBeGreaterThanOrEqual(250);
  });

  it('slow-loris: a header trickled byte by byte is cut after messageMs, though bytes keep coming', async () => {
    rig = await startRig({ limits: { messageMs: 400, idleMs: 60_000 } });
    const seen = collect(rig.transport);
    const s = await open('127.0.0.81');
    s.write(options('10.0.0.1'));
    await seen.waitFor(1);
    const text = options('10.0.0.2');
    let i = 0;
    const trickle = setInterval(() => s.writable && s.write(text[i++ % text.length]!), 20);
    const took = await closed(s).finally(() => clearInterval(trickle));
    expect(took).toBeGreaterThanOrEqual(350);
    expect(i).toBeLessThan(text.length); // cut before the message could complete
    expect(seen.messages).toHaveLength(1);
  });

  it('closes an idle unbound connection; CRLF keep-alives are answered and keep another open; a bound one stays', async () => {
    rig = await startRig({ limits: { idleMs: 400 } });
    rig.transport.onMessage((message, flow) => {
      // A registration or a call watches its flow's close: that makes the flow bound.
      if (message.kind === 'request' && message.uri.includes('bound')) flow.onClose(() => undefined);
    });
    const seen = collect(rig.transport);
    const [idle, alive, bound] = await Promise.all(['127.0.0.82', '127.0.0.83', '127.0.0.84'].map(open));
    idle!.write(options('10.0.0.1'));
    alive!.write(options('10.0.0.2'));
    bound!.write(options('10.0.0.3').replace('sip:gw@127.0.0.1 SIP', 'sip:bound@127.0.0.1 SIP'));
    await seen.waitFor(3);
    let pongs = 0;
    alive!.on('data', (d: Buffer) => (pongs += d.toString() === '\r\n' ? 1 : 0));
    const ping = setInterval(() => alive!.write('\r\n\r\n'), 100);
    const took = await closed(idle!);
    expect(took).toBeGreaterThanOrEqual(350);
    // Three more idle periods: the keep-alive one and the bound one are still open.
    while (pongs < 12) await new Promise((r) => alive!.once('data', r));
    clearInterval(ping);
    expect(alive!.destroyed).toBe(false);
    expect(bound!.destroyed).toBe(false);
  });
});

describe('connection hygiene: TLS handshake deadline', { timeout: 15_000 }, () => {
  let pki: TestPki;
  let transport: SipTransport | undefined;
  beforeAll(() => {
    pki = createTestPki('hygiene');
  });
  afterAll(() => pki.remove());
  afterEach(async () => transport?.close());

  it('closes a TCP connection to the TLS port that never starts a handshake', async () => {
    const o: TransportOptions = {
      listen: [{ transport: 'tls', address: '127.0.0.1', port: 0 }],
      tlsServer: { cert: pki.cert, key: pki.key },
      logger: createLogger('silent'),
      limits: { tlsHandshakeMs: 300, maxPerAddress: 1 },
    };
    transport = await createTransport(o);
    const port = transport.localAddress('tls')!.port;
    const s = await connectFrom(port, '127.0.0.85');
    const taking = closed(s);
    // Over the cap, the raw TCP connection is reset before any handshake.
    const over = attemptFrom(port, '127.0.0.85');
    expect(await closed(over)).toBeLessThan(250);
    expect(await taking).toBeGreaterThanOrEqual(250);
  });
});

function wsOpen(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['sip'], options);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** An HTTP server with the WS endpoint whose allowed origin is the page's own (as buildGateway sets it). */
async function startWsRig(limits: TransportOptions['limits']): Promise<{ url: string; origin: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const transport = await createTransport({
    listen: [],
    ws: { server, path: '/sip', allowedOrigins: [origin] },
    logger: createLogger('silent'),
    limits,
  });
  return {
    url: `ws://127.0.0.1:${port}/sip`,
    origin,
    async close() {
      await transport.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('connection hygiene: WebSocket', { timeout: 15_000 }, () => {
  let rig: Awaited<ReturnType<typeof startWsRig>> | undefined;
  const clients: WebSocket[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await rig?.close();
    rig = undefined;
  });
  const open = async (o: WebSocket.ClientOptions = {}): Promise<WebSocket> => {
    const ws = await wsOpen(rig!.url, o);
    clients.push(ws);
    return ws;
  };

  it('refuses a foreign Origin with 403; the page origin and an upgrade without Origin are accepted', async () => {
    rig = await startWsRig({});
    await expect(wsOpen(rig.url, { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    expect((await open({ origin: rig.origin })).protocol).toBe('sip');
    expect((await open()).protocol).toBe('sip');
  });

  it('answers 503 to an upgrade over the per-address cap', async () => {
    rig = await startWsRig({ maxPerAddress: 2 });
    await open({ localAddress: '127.0.0.90' });
    await open({ localAddress: '127.0.0.90' });
    await expect(wsOpen(rig.url, { localAddress: '127.0.0.90' })).rejects.toThrow('HTTP 503');
    expect((await open({ localAddress: '127.0.0.91' })).readyState).toBe(WebSocket.OPEN);
  });

  it('closes a socket flooding messages with 1008 (policy violation) once the burst is spent', async () => {
    rig = await startWsRig({ wsMessagesPerSecond: 10, wsBurst: 20 });
    const ws = await open({ localAddress: '127.0.0.92' });
    const code = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    let sent = 0;
    for (; sent < 200 && ws.readyState === WebSocket.OPEN; sent++) {
      ws.send(request({ via: `SIP/2.0/WS flood.invalid;branch=z9hG4bKf${sent}` }));
      if (sent % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    expect(await code).toBe(1008);
    expect(sent).toBeLessThan(200);
  });

  it('answers a CRLF keep-alive with CRLF; an unbound socket without messages is closed after idleMs', async () => {
    rig = await startWsRig({ idleMs: 300 });
    const ws = await open();
    const pong = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send('\r\n\r\n');
    expect(await pong).toBe('\r\n');
    const t0 = Date.now();
    await new Promise((resolve) => ws.once('close', resolve));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('slow-loris: a WebSocket frame trickled byte by byte is cut after messageMs', async () => {
    rig = await startWsRig({ messageMs: 400, firstMessageMs: 60_000, idleMs: 60_000 });
    const port = Number(new URL(rig.url).port);
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    const upgraded = new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString())));
    socket.write(
      'GET /sip HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n',
    );
    expect(await upgraded).toMatch(/^HTTP\/1\.1 101 /);
    // A masked text frame (RFC 6455 §5.2) of 100 bytes, sent one byte every 20 ms (2 s in all).
    const mask = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from(request({ via: 'SIP/2.0/WS loris.invalid;branch=z9hG4bKloris' }).slice(0, 100));
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((b, i) => b ^ mask[i % 4]!)]);
    let i = 0;
    const trickle = setInterval(() => socket.writable && i < frame.length && socket.write(frame.subarray(i, ++i)), 20);
    const took = await closed(socket).finally(() => clearInterval(trickle));
    expect(took).toBeGreaterThanOrEqual(350);
    expect(i).toBeLessThan(frame.length);
  });
});
