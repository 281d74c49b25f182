// SIP over TLS toward a trunk (RFC 3261 §26.2, RFC 5630): the gateway calls a Debian Kamailio over TLS
// (tls.so, the test certificate), which forwards over UDP to a SIPp UAS. The browser side is a WebSocket
// client. Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/tls'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { freePort, freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { startSipp, type SippHandle } from '../../support/sipp.js';
import { traceHeader } from '../../support/sipp-trace.js';
import { createTestPki, type TestPki } from '../../support/tls.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { hasKamailioTls, startKamailioTls, type KamailioTls } from './kamailio-tls.js';

const USER = { name: 'alice', password: 'alice-secret', callerId: '+15550001' };

function gatewayConfig(trunk: Record<string, unknown>, extraListen: string[] = [], tls?: { cert: string; key: string }) {
  return parseConfig(
    {
      http: { listen: '127.0.0.1:0', ...(tls ? { tls } : {}) },
      sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0', ...extraListen] },
      media: { rtpPorts: '43200-43299', address: '127.0.0.1' },
      users: [USER],
      trunks: [{ name: 'kamailio', ...trunk }],
      routes: [{ match: '^\\d{4,15}$', trunk: 'kamailio' }],
      log: { level: 'silent' },
    },
    'test.yaml',
  );
}

describe.runIf(hasKamailioTls())('SIP over TLS toward a trunk (Kamailio tls.so → SIPp)', () => {
  let pki: TestPki;
  let kamailio: KamailioTls;
  let tlsPort: number;
  const cleanups: Array<() => Promise<unknown>> = [];

  async function startUas(hangupMs = 0): Promise<SippHandle> {
    const sippPort = await freeSipPort();
    const media = await freeUdpPortPair();
    const sipp = startSipp({ scenario: 'uas-answer', localPort: sippPort, mediaPort: media.rtp, traceDir: pki.dir, set: { hangup_ms: hangupMs } });
    cleanups.push(() => sipp.stop());
    await sipp.ready;
    tlsPort = await freePort('tcp');
    kamailio = await startKamailioTls({
      dir: pki.dir,
      tlsPort,
      udpPort: await freePort('udp'),
      nextHop: { address: '127.0.0.1', port: sippPort },
      cert: pki.serverCert,
      key: pki.serverKey,
    });
    cleanups.push(() => kamailio.stop());
    return sipp;
  }

  async function startGateway(config: ReturnType<typeof gatewayConfig>): Promise<{ gateway: Gateway; client: WsSipClient }> {
    const gateway = buildGateway(config);
    cleanups.push(() => gateway.stop());
    await gateway.start();
    const wsUrl = gateway.httpUrl.replace(/^http/, 'ws') + 'sip';
    const client = await WsSipClient.connect({ url: wsUrl, user: USER.name, password: USER.password, ws: config.http.tls ? { ca: pki.ca } : undefined });
    cleanups.push(() => client.close());
    return { gateway, client };
  }

  beforeAll(() => {
    pki = createTestPki('trunk-tls');
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  afterAll(async () => {
    await stopAllProcesses();
    pki.remove();
  });

  it('INVITE, ACK and BYE reach Kamailio over one verified TLS connection; SIPp answers; the browser gets 200', async () => {
    const sipp = await startUas();
    // The URI host is a name: SNI and certificate check use "localhost"; the trunk's CA is the test CA.
    const { client } = await startGateway(gatewayConfig({ uri: `sip:localhost:${tlsPort};transport=tls`, tls: { ca: pki.caCert } }));
    const call = client.invite('5551234');
    const final = await call.final;
    expect(final.status).toBe(200);
    const bye = await call.bye();
    expect(bye.status).toBe(200);

    // Kamailio's stderr is read asynchronously: wait for its log line of the BYE.
    await expect.poll(() => kamailio.requests().map((r) => r.method)).toEqual(['INVITE', 'ACK', 'BYE']);
    const requests = kamailio.requests();
    expect(requests.every((r) => r.proto === 'tls')).toBe(true);
    // Connection reuse (RFC 3261 §18.1.1): every request came from the same source port.
    expect(new Set(requests.map((r) => r.from)).size).toBe(1);

    const invite = sipp.messages().find((e) => e.direction === 'received' && e.message.kind === 'request' && e.message.method === 'INVITE');
    expect(invite).toBeDefined();
    // Kamailio's Via below our own: our Via names TLS, our Contact ;transport=tls.
    const vias = invite!.message.headers.filter((h) => h.name.toLowerCase() === 'via').map((h) => h.value);
    expect(vias.some((v) => /^SIP\/2\.0\/TLS /.test(v))).toBe(true);
    expect(traceHeader(invite!.message, 'Contact')).toMatch(/;transport=tls/);
    expect(sipp.errors()).toBe('');
  });

  it('with a tls: listening point, the trunk’s own BYE reaches the gateway over TLS and the browser is hung up', async () => {
    const sipp = await startUas(300);
    const config = gatewayConfig(
      { uri: `sip:localhost:${tlsPort};transport=tls`, tls: { ca: pki.caCert } },
      ['tls:127.0.0.1:0'],
      { cert: pki.serverCert, key: pki.serverKey },
    );
    const { gateway, client } = await startGateway(config);
    expect(gateway.httpUrl).toMatch(/^https:/);
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    await call.byeReceived;
    const invite = sipp.messages().find((e) => e.direction === 'received' && e.message.kind === 'request' && e.message.method === 'INVITE')!;
    expect(traceHeader(invite.message, 'Contact')).toContain(`:${gateway.sipAddress('tls')!.port};transport=tls`);
    // The gateway's 200 to that BYE went back through Kamailio to SIPp.
    const byeAnswered = () => sipp.messages().some((e) => e.direction === 'received' && e.message.kind === 'response' && e.message.status === 200);
    await expect.poll(byeAnswered).toBe(true);
    await expect.poll(() => kamailio.requests().map((r) => `${r.method}/${r.proto}`)).toEqual(['INVITE/tls', 'ACK/tls', 'BYE/udp']);
  });

  it('an untrusted server certificate (verification on, no CA configured) fails the call with 503; SIPp sees nothing', async () => {
    const sipp = await startUas();
    const { client } = await startGateway(gatewayConfig({ uri: `sip:localhost:${tlsPort};transport=tls` }));
    const final = await client.invite('5551234').final;
    expect(final.status).toBe(503);
    expect(kamailio.requests()).toEqual([]);
    expect(sipp.messages()).toEqual([]);
  });
});
