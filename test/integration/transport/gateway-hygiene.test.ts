// Connection hygiene as buildGateway wires it: the WebSocket Origin allow-list defaults to the page's own
// origin, a registered browser is not cut by the idle timeout (an unregistered socket is), and the web
// server closes an HTTP connection that sends nothing.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { answerChallenge, pickBestChallenge } from '../../../gateway/sip/auth/index.js';
import { parseMessage, StreamFramer } from '../../../gateway/sip/message/index.js';
import type { SipResponse } from '../../../gateway/sip/message/types.js';
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

  async function start(limits: Record<string, number> = {}, listen = ['udp:127.0.0.1:0']): Promise<string> {
    const config = parseConfig(
      {
        http: { listen: '127.0.0.1:0' },
        sip: { listen, limits },
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

  it('a phone registered over TCP keeps its connection with CRLF keep-alives (each answered CRLF); once it stops, idle closes it', async () => {
    await start({ idleTimeout: 1 }, ['tcp:127.0.0.1:0']);
    const phone = await tcpPhone(gw!.sipAddress('tcp')!.port);
    cleanups.push(() => phone.socket.destroy());
    expect(await phone.register()).toBe(200);
    expect(gw!.status().registrations).toBe(1);
    const ping = setInterval(() => phone.socket.write('\r\n\r\n'), 200);
    cleanups.push(() => clearInterval(ping));
    const t0 = Date.now();
    await phone.pongs(15); // three idle timeouts' worth of keep-alives
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2500);
    expect(phone.socket.destroyed).toBe(false);
    clearInterval(ping);
    await new Promise((resolve) => phone.socket.once('close', resolve));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3500);
  });
});

/** A SIP phone on a raw TCP connection: REGISTER with digest, then counts CRLF pongs. */
async function tcpPhone(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  const framer = new StreamFramer();
  const responses: SipResponse[] = [];
  let pongs = 0;
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    if (chunk.toString() === '\r\n') pongs++;
    else for (const frame of framer.push(chunk)) responses.push(parseMessage(frame, { stream: true }) as SipResponse);
    for (const w of waiters.splice(0)) w();
  });
  const next = async (pred: () => boolean): Promise<void> => {
    while (!pred()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const local = `127.0.0.1:${socket.localPort}`;
  const send = (cseq: number, extra: string[]): void => {
    socket.write(
      [
        'REGISTER sip:127.0.0.1 SIP/2.0',
        `Via: SIP/2.0/TCP ${local};branch=z9hG4bKtcpreg${cseq};rport`,
        'Max-Forwards: 70',
        `From: <sip:${ALICE.name}@127.0.0.1>;tag=tcpphone`,
        `To: <sip:${ALICE.name}@127.0.0.1>`,
        'Call-ID: tcp-phone-registration',
        `CSeq: ${cseq} REGISTER`,
        `Contact: <sip:${ALICE.name}@${local};transport=tcp>`,
        'Expires: 600',
        ...extra,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  };
  return {
    socket,
    async register(): Promise<number> {
      send(1, []);
      await next(() => responses.length >= 1);
      const challenge = pickBestChallenge(responses[0]!.headers.filter((h) => h.name.toLowerCase() === 'www-authenticate').map((h) => h.value));
      const auth = answerChallenge({ challenge: challenge!, username: ALICE.name, password: ALICE.password, method: 'REGISTER', uri: 'sip:127.0.0.1' });
      send(2, [`Authorization: ${auth}`]);
      await next(() => responses.length >= 2);
      return responses[1]!.status;
    },
    pongs: (n: number) => next(() => pongs >= n),
  };
}
