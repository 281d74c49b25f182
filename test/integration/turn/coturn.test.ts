// coturn as the companion TURN server: a credential minted by the gateway's GET /api/ice-servers opens a
// real TURN allocation (RFC 8656) over UDP and over TCP; a wrong or expired one is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { mintTurnCredential, type IceServersResponse } from '../../../gateway/http/turn-credentials.js';
import { verifyMessageIntegrity } from '../../../gateway/media/stun/index.js';
import { startCoturn, type CoturnHandle } from '../../support/coturn.js';
import { stopAllProcesses } from '../../support/process.js';
import { allocate, createPermission, describeResponse, tcpChannel, udpChannel, type StunChannel, type TurnTransport } from '../../support/turn-client.js';

const SECRET = 'coturn-test-secret';
const ALICE = { name: 'alice', password: 'alice-pw' };

let coturn: CoturnHandle;
let gateway: Gateway;

beforeAll(async () => {
  coturn = await startCoturn({ secret: SECRET, address: '127.0.0.1', relayPorts: '46000-46099' });
  const turnHost = `${coturn.address}:${coturn.port}`;
  const config = parseConfig(
    {
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0'] },
      media: { rtpPorts: '43500-43599', address: '127.0.0.1' },
      users: [ALICE],
      turn: { urls: [`turn:${turnHost}?transport=udp`, `turn:${turnHost}?transport=tcp`], secret: SECRET, ttl: 600 },
      log: { level: 'silent' },
    },
    'test.yaml',
  );
  gateway = buildGateway(config);
  await gateway.start();
});

afterAll(async () => {
  await gateway?.stop();
  await coturn?.stop();
  await stopAllProcesses();
});

/** What the page gets at sign-in. */
async function iceServers(): Promise<IceServersResponse> {
  const authorization = `Basic ${Buffer.from(`${ALICE.name}:${ALICE.password}`).toString('base64')}`;
  const res = await fetch(new URL('/api/ice-servers', gateway.httpUrl), { headers: { authorization } });
  expect(res.status).toBe(200);
  return (await res.json()) as IceServersResponse;
}

/** The TURN server of the handed-out URL for `transport` (RFC 7065 §3.1 "turn:host:port?transport=…"). */
function serverFor(urls: string[], transport: TurnTransport): { address: string; port: number } {
  const url = urls.find((u) => u.endsWith(`?transport=${transport}`));
  const m = /^turn:([\d.]+):(\d+)\?/.exec(url ?? '');
  if (!m) throw new Error(`no turn: URL for ${transport} in ${urls.join(', ')}`);
  return { address: m[1]!, port: Number(m[2]) };
}

async function withChannel<T>(transport: TurnTransport, urls: string[], fn: (c: StunChannel) => Promise<T>): Promise<T> {
  const server = serverFor(urls, transport);
  const channel = transport === 'udp' ? await udpChannel(server) : await tcpChannel(server);
  try {
    return await fn(channel);
  } finally {
    channel.close();
  }
}

describe.each(['udp', 'tcp'] as const)('coturn over %s', (transport) => {
  it('challenges, then allocates a relayed address for the credential the gateway minted', async () => {
    const { iceServers: [server] } = await iceServers();
    const out = await withChannel(transport, server!.urls, (c) => allocate(c, server!.username, server!.credential));
    // RFC 8656 §7.2 / RFC 8489 §9.2.4: no credentials → 401 with REALM and a NONCE.
    expect(describeResponse(out.challenge)).toMatchObject({ cls: 'error', error: 401, realm: coturn.realm, fingerprint: 'valid' });
    expect(describeResponse(out.challenge).nonce).toMatch(/.+/);
    const ok = describeResponse(out.response);
    expect(ok, coturn.log().slice(-2000)).toMatchObject({ cls: 'success', fingerprint: 'valid' });
    expect(ok.relayed?.address).toBe(coturn.address);
    expect(ok.relayed?.port).toBeGreaterThanOrEqual(46000);
    expect(ok.relayed?.port).toBeLessThanOrEqual(46099);
    // The server signed its answer with the same long-term key: it knew the password without being told it.
    expect(verifyMessageIntegrity(out.response, out.key)).toBe(true);
  });

  it('will not relay toward a loopback peer (the example enables no allow-loopback-peers)', async () => {
    const { iceServers: [server] } = await iceServers();
    const refused = await withChannel(transport, server!.urls, async (c) => {
      const allocated = await allocate(c, server!.username, server!.credential);
      expect(describeResponse(allocated.response).cls).toBe('success');
      return createPermission(c, allocated, { address: '127.0.0.1', port: 9 });
    });
    // RFC 8656 §9.1 / coturn: a peer address the server's policy forbids → 403 (Forbidden).
    expect(describeResponse(refused)).toMatchObject({ cls: 'error', error: 403 });
  });

  it('refuses a credential made with another secret', async () => {
    const { iceServers: [server] } = await iceServers();
    const forged = mintTurnCredential('not-the-secret', 'alice', 600, Date.now());
    const out = await withChannel(transport, server!.urls, (c) => allocate(c, forged.username, forged.credential));
    expect(describeResponse(out.challenge).error).toBe(401);
    expect(describeResponse(out.response)).toMatchObject({ cls: 'error', error: 401 });
  });

  it('refuses an expired credential (minted an hour ago with a ten-minute lifetime)', async () => {
    const { iceServers: [server] } = await iceServers();
    const expired = mintTurnCredential(SECRET, 'alice', 600, Date.now() - 3_600_000);
    expect(expired.expiresAt).toBeLessThan(Date.now() / 1000);
    const out = await withChannel(transport, server!.urls, (c) => allocate(c, expired.username, expired.credential));
    expect(describeResponse(out.response).cls).toBe('error');
    expect([401, 438]).toContain(describeResponse(out.response).error);
  });
});
