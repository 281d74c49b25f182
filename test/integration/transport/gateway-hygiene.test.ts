// Connection hygiene as buildGateway wires it: the WebSocket Origin allow-list defaults to the page's own
// origin, a registered browser is not cut by the idle timeout (an unregistered socket is), and the web
// server closes an HTTP connection that sends nothing.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { WsSipClient } from '../../support/ws-sip-client.js';

const ALICE = { name: 'alice', password: 'alice-secret' };

function upgrade(url: string, origin?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['sip'], origin ? { origin } : {});
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('connection hygiene through buildGateway', { timeout: 30_000 }, () => {
  let gw: Gateway | undefined;
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await gw?.stop();
    gw = undefined;
  });

  async function start(limits: Record<string, number> = {}): Promise<string> {
    const config = parseConfig(
      {
        http: { listen: '127.0.0.1:0' },
        sip: { listen: ['udp:127.0.0.1:0'], limits },
        media: { rtpPorts: '42300-42399', address: '127.0.0.1' },
        users: [ALICE],
        log: { level: 'silent' },
      },
      'gateway hygiene test',
    );
    gw = buildGateway(config, { logger: createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent') });
    await gw.start();
    return `${gw.httpUrl.replace(/^http/, 'ws')}sip`;
  }

  it("accepts the page's own origin (and localhost on a loopback listen), refuses https://evil.example with 403", async () => {
    const url = await start();
    const page = new URL(gw!.httpUrl).origin;
    const port = new URL(gw!.httpUrl).port;
    await expect(upgrade(url, 'https://evil.example')).rejects.toThrow('HTTP 403');
    await expect(upgrade(url, `http://127.0.0.1:${Number(port) + 1}`)).rejects.toThrow('HTTP 403');
    for (const origin of [page, `http://localhost:${port}`, undefined]) {
      const ws = await upgrade(url, origin);
      cleanups.push(() => ws.terminate());
      expect(ws.protocol).toBe('sip');
    }
  });

  it('a registered browser outlives the idle timeout that closes an unregistered socket, and registers again over the same socket', async () => {
    const url = await start({ idleTimeout: 1 });
    const client = await WsSipClient.connect({ url, user: ALICE.name, password: ALICE.password });
    cleanups.push(() => client.close());
    expect((await client.register(600)).status).toBe(200);
    // The control: opened after the registration (so its idle deadline comes later), sends nothing.
    const idle = await upgrade(url);
    const t0 = Date.now();
    const idleClosed = new Promise<number>((resolve) => idle.once('close', () => resolve(Date.now() - t0)));
    expect(await idleClosed).toBeGreaterThanOrEqual(900);
    expect(gw!.status().registrations).toBe(1);
    const reg = await client.register(600);
    expect(reg.status).toBe(200);
  });

  it('closes an HTTP connection that sends nothing within firstMessageTimeout', async () => {
    await start({ firstMessageTimeout: 0.5 });
    const port = Number(new URL(gw!.httpUrl).port);
    const socket = net.connect({ host: '127.0.0.1', port });
    cleanups.push(() => socket.destroy());
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    const t0 = Date.now();
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
  });
});
