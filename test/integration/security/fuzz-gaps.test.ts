// Issue 8, the gaps left after items 1-7, through a real gateway (buildGateway) on loopback (127.0.30.x):
// a banned source gets no 400 for a TCP stream it broke; a ban closes the source's open TCP and WebSocket
// connections; the web server caps connections per source IP (http.maxConnectionsPerAddress).
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/security/fuzz-gaps.test.ts'
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { phoneHeaders, sipRequest, statusOf, UdpPeer } from './peers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function startGateway(more: Record<string, unknown> = {}): Promise<Gateway> {
  const config = parseConfig(
    {
      http: { listen: '127.0.0.1:0', ...(more.http as object) },
      sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] },
      media: { rtpPorts: '46200-46299', address: '127.0.0.1' },
      users: [{ name: 'alice', password: 'alice-secret' }],
      log: { level: 'silent' },
      security: { rateLimit: { requestsPerSecond: 1, burst: 5 }, ban: { seconds: 60 } },
    },
    'fuzz-gaps test',
  );
  const gw = buildGateway(config, { logger: createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent') });
  cleanups.push(() => gw.stop());
  await gw.start();
  return gw;
}

/** A TCP connection from `from`; `text()` is what came back, `closed` resolves when the gateway closed it. */
async function tcp(from: string, port: number): Promise<{ socket: net.Socket; text: () => string; closed: Promise<void> }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
  cleanups.push(() => socket.destroy());
  let text = '';
  socket.on('data', (d) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, text: () => text, closed };
}

/** No Content-Length on a stream: a framing error (RFC 3261 §18.3), answered 400 unless the source is banned. */
const unframed = (from: string): string =>
  sipRequest({ method: 'OPTIONS', via: `SIP/2.0/TCP ${from}:5060;branch=z9hG4bK-unframed`, callId: 'unframed' }).replace(/Content-Length: 0\r\n/, '');

/** Gets `from` banned: UDP requests past the burst (rate 1/s, burst 5). */
async function ban(from: string, udpPort: number): Promise<void> {
  const flood = await UdpPeer.bind(from);
  cleanups.push(() => flood.close());
  for (let i = 0; i < 12; i++) {
    await flood.send(sipRequest({ method: 'OPTIONS', via: `SIP/2.0/UDP ${from}:${flood.port};branch=z9hG4bK-f${i}`, callId: `f${i}`, extra: phoneHeaders(from, flood.port) }), udpPort);
  }
}

const withinDeadline = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

describe('banned sources (issue 8 gaps)', { timeout: 20_000 }, () => {
  it('a TCP framing error is answered 400 — but not from a banned source: 0 bytes, the connection closed', async () => {
    const gw = await startGateway();
    const { port } = gw.sipAddress('tcp')!;
    // The control: an unbanned source gets its 400 (the stream cannot be framed, then it is closed).
    const ok = await tcp('127.0.30.10', port);
    ok.socket.write(unframed('127.0.30.10'));
    await withinDeadline(ok.closed, 5000, 'control connection closed');
    expect(statusOf(ok.text())).toBe(400);

    await ban('127.0.30.11', gw.sipAddress('udp')!.port);
    const banned = await tcp('127.0.30.11', port);
    banned.socket.write(unframed('127.0.30.11'));
    await withinDeadline(banned.closed, 5000, 'banned connection closed');
    expect(banned.text()).toBe('');
  });

  it('a ban closes the source’s open TCP and WebSocket connections; another source’s stay open', async () => {
    const gw = await startGateway();
    const { port } = gw.sipAddress('tcp')!;
    const victimTcp = await tcp('127.0.30.12', port);
    const bystander = await tcp('127.0.30.13', port);
    const ws = new WebSocket(`${gw.httpUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/sip`, 'sip', { localAddress: '127.0.30.12' });
    cleanups.push(() => ws.terminate());
    await withinDeadline(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 5000, 'ws open');
    const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

    await ban('127.0.30.12', gw.sipAddress('udp')!.port);
    await withinDeadline(victimTcp.closed, 5000, 'banned source TCP closed');
    expect(await withinDeadline(wsClosed, 5000, 'banned source WebSocket closed')).toBe(1008);
    expect(bystander.socket.destroyed).toBe(false);
  });
});

describe('http.maxConnectionsPerAddress', { timeout: 20_000 }, () => {
  it('the web server holds at most N connections per source IP; one more is reset, others still served', async () => {
    const gw = await startGateway({ http: { maxConnectionsPerAddress: 5 } });
    const { port } = new URL(gw.httpUrl);
    const held = await Promise.all(Array.from({ length: 5 }, () => tcp('127.0.30.14', Number(port))));
    // The 6th from the same address: closed by the gateway at once, before any request is read.
    const sixth = await tcp('127.0.30.14', Number(port));
    sixth.socket.write('GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n');
    await withinDeadline(sixth.closed, 3000, '6th connection closed');
    expect(sixth.text()).toBe('');
    // The held ones are still served, and so is another address.
    held[0]!.socket.write('GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => held[0]!.text(), { timeout: 3000 }).toMatch(/^HTTP\/1\.1 200/);
    const other = await tcp('127.0.30.15', Number(port));
    other.socket.write('GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => other.text(), { timeout: 3000 }).toMatch(/^HTTP\/1\.1 200/);
    // One closed → room for one more from that address.
    held[1]!.socket.destroy();
    await held[1]!.closed;
    await expect
      .poll(async () => {
        const again = await tcp('127.0.30.14', Number(port));
        again.socket.write('GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n');
        await Promise.race([again.closed, new Promise((r) => setTimeout(r, 300))]);
        return again.text().slice(0, 12);
      }, { timeout: 3000 })
      .toBe('HTTP/1.1 200');
  });
});
