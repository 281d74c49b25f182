// Issue 8: "5,000 idle TCP connections do not stop a legit call". The whole gateway (buildGateway) on
// loopback; the flood comes from 127.0.0.66 (and, for the global cap, from 127.0.0.100-119); the browser
// (WsSipClient) registers from 127.0.0.1 and calls the echo line.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { until } from '../../support/netbed/wait.js';
import { WsSipClient } from '../../support/ws-sip-client.js';

const ALICE = { name: 'alice', password: 'alice-secret' };
const TRUNK = '127.0.0.9';

function config(limits: Record<string, number>) {
  return parseConfig(
    {
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'], limits },
      media: { rtpPorts: '42200-42299', address: '127.0.0.1' },
      users: [ALICE],
      trunks: [{ name: 'carrier', uri: `sip:${TRUNK}:5099;transport=tcp` }],
      routes: [{ match: '^\\*43$', echo: true }],
      log: { level: 'silent' },
    },
    'idle flood test',
  );
}

/** `count` connection attempts from `source`, `batch` at a time; each settles once connected or closed. */
async function flood(port: number, sources: string[], perSource: number, batch = 500): Promise<net.Socket[]> {
  const all: net.Socket[] = [];
  const targets = sources.flatMap((s) => Array.from({ length: perSource }, () => s));
  for (let i = 0; i < targets.length; i += batch) {
    const settled = targets.slice(i, i + batch).map(
      (localAddress) =>
        new Promise<void>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port, localAddress });
          all.push(socket);
          socket.on('error', () => undefined);
          socket.once('connect', () => resolve());
          socket.once('close', () => resolve());
        }),
    );
    await Promise.all(settled);
  }
  return all;
}

const openCount = (sockets: net.Socket[]): number => sockets.filter((s) => !s.destroyed).length;

describe('5,000 idle TCP connections', { timeout: 120_000 }, () => {
  let gw: Gateway | undefined;
  let sockets: net.Socket[] = [];
  let client: WsSipClient | undefined;
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    sockets = [];
    await client?.close();
    client = undefined;
    await gw?.stop();
  });

  async function start(limits: Record<string, number>): Promise<{ tcpPort: number; wsUrl: string }> {
    gw = buildGateway(config(limits), { logger: createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent') });
    await gw.start();
    return { tcpPort: gw.sipAddress('tcp')!.port, wsUrl: `${gw.httpUrl.replace(/^http/, 'ws')}sip` };
  }

  async function echoCall(wsUrl: string): Promise<number> {
    client = await WsSipClient.connect({ url: wsUrl, ...{ user: ALICE.name, password: ALICE.password } });
    expect((await client.register(600)).status).toBe(200);
    const call = client.invite('*43');
    const status = (await call.final).status;
    if (status === 200) expect((await call.bye()).status).toBe(200);
    return status;
  }

  it('from one address (default caps): 64 stay, the other 4,936 are reset at once; a browser still calls', async () => {
    // A long first-message deadline keeps the 64 idle ones open through the call.
    const { tcpPort, wsUrl } = await start({ firstMessageTimeout: 120 });
    sockets = await flood(tcpPort, ['127.0.0.66'], 5000);
    expect(sockets).toHaveLength(5000);
    await until('only the per-address cap to stay open', () => (openCount(sockets) === 64 ? true : undefined), 20_000);
    expect(await echoCall(wsUrl)).toBe(200);
    expect(openCount(sockets)).toBe(64);
  });

  it('800 from 20 addresses over the global cap: newcomers refused (WS 503) but a trunk admitted; the first-message deadline frees the slots', async () => {
    const { tcpPort, wsUrl } = await start({ maxConnections: 500, firstMessageTimeout: 8 });
    const sources = Array.from({ length: 20 }, (_, i) => `127.0.0.${100 + i}`);
    sockets = await flood(tcpPort, sources, 40);
    await until('the global cap to be reached', () => (openCount(sockets) === 500 ? true : undefined), 20_000);
    await expect(WsSipClient.connect({ url: wsUrl, user: ALICE.name, password: ALICE.password })).rejects.toThrow(/503/);
    const trunk = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: tcpPort, localAddress: TRUNK }, () => resolve(s));
      s.once('error', reject);
    });
    sockets.push(trunk);
    const answer = new Promise<string>((resolve) => trunk.once('data', (d) => resolve(d.toString())));
    trunk.write(
      [
        'OPTIONS sip:gw@127.0.0.1 SIP/2.0',
        `Via: SIP/2.0/TCP ${TRUNK}:5099;branch=z9hG4bKtrunkprobe`,
        'Max-Forwards: 70',
        `From: <sip:carrier@${TRUNK}>;tag=t1`,
        'To: <sip:gw@127.0.0.1>',
        'Call-ID: trunk-probe@flood',
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    expect(await answer).toMatch(/^SIP\/2\.0 \d{3} /);
    // The flood never sent a message: the first-message deadline (8 s) closes every one of them.
    await until('the flood to be closed by the first-message deadline', () => (openCount(sockets) === 1 ? true : undefined), 20_000);
    expect(trunk.destroyed).toBe(false);
    expect(await echoCall(wsUrl)).toBe(200);
  });
});
