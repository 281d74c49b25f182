// DTMF with media.engine: rtpengine (the gateway as main runs it, buildGateway): a SIP INFO from the phone
// becomes ng `play DTMF` (rtpengine 10.5; media.rtpengineInjectDtmf puts the `inject-DTMF` flag on offers and answers), and rtpengine
// writes the RFC 4733 event into the stream toward the SIPp trunk — decoded from the trunk's socket. The
// trunk answers telephone-event with the offered 101: rtpengine 10.5 drops an answered telephone-event
// renumbered to another payload type from its answer to the offerer (seen here with 96), so renumbering is
// the embedded engine's (dtmf.test.ts).
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/call/dtmf-rtpengine.test.ts'
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../../../gateway/app.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { startSipp } from '../../support/sipp.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { mediaAddress, rtpSdp } from '../../support/ws-session.js';
import { startRtpengine } from '../media/rtpengine-launch.js';
import { until } from '../media/peers.js';
import { byEvent, End, phoneInfo, received, text } from './dtmf-rig.js';
import { USER } from './harness.js';

const traceDir = mkdtempSync(join(tmpdir(), 'dtmf-rtpengine-'));
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await stopAllProcesses();
});

describe('DTMF with media.engine rtpengine', () => {
  it('INFO from the phone → rtpengine play DTMF → an RFC 4733 event at the trunk (PT 101) with its end packets', async () => {
    const rtpengine = await startRtpengine();
    cleanups.push(() => rtpengine.stop());
    const phone = await End.open(0x0a0a0a0a, cleanups);
    const trunk = await End.open(0x0b0b0b0b, cleanups);
    const trunkPort = await freeSipPort();
    const media = await freeUdpPortPair();
    const sipp = startSipp({ scenarioFile: join(import.meta.dirname, '../../support/sipp/uas-dtmf-answer.xml'), localPort: trunkPort, mediaPort: media.rtp, traceDir, set: { trunk_rtp: trunk.sock.port, te_pt: 101 } });
    cleanups.push(() => sipp.stop());
    await sipp.ready;
    const config = configSchema.parse({
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0'] },
      media: { engine: 'rtpengine', rtpengine: `127.0.0.1:${rtpengine.ngPort}`, iceTcp: false, rtpengineInjectDtmf: true },
      users: [USER],
      trunks: [{ name: 'sipp', uri: `sip:127.0.0.1:${trunkPort}`, keepalive: false }],
      routes: [{ match: '^\\+?\\d{4,15}$', trunk: 'sipp' }],
      log: { level: 'silent' },
    });
    const gw = buildGateway(config, { logger: createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent') });
    await gw.start();
    cleanups.push(() => gw.stop());
    const client = await WsSipClient.connect({ url: `${gw.httpUrl.replace(/^http/, 'ws')}sip`, user: USER.name, password: USER.password });
    cleanups.push(() => client.close());
    const call = client.invite('5551234', { sdp: rtpSdp(phone.sock.port) });
    const final = await call.final;
    expect(final.status).toBe(200);
    await until(() => received(sipp, 'INVITE').length > 0, 5000, 'the INVITE at SIPp');
    phone.start(mediaAddress(text(final)));
    trunk.start(mediaAddress(text(received(sipp, 'INVITE')[0]!)));
    await until(() => trunk.sock.rtp.length >= 10 && phone.sock.rtp.length >= 10, 10_000, 'audio both ways through rtpengine');

    expect((await phoneInfo({ client, call, final }, 'application/dtmf-relay', 'Signal=5\r\nDuration=200\r\n')).status).toBe(200);
    await until(() => trunk.events(101).some((p) => p.end), 10_000, 'the end of the event at the trunk');
    await until(() => byEvent(trunk.events(101))[0]!.filter((p) => p.end).length >= 3, 2000, 'three end packets');
    const [five] = byEvent(trunk.events(101));
    expect(five!.every((p) => p.event === 5)).toBe(true);
    expect(five![0]!.marker).toBe(true);
    expect(five!.filter((p) => p.end).length).toBeGreaterThanOrEqual(3);
    // rtpengine's duration: the asked 200 ms at 8 kHz, give or take one 20 ms frame
    expect(Math.abs(five!.at(-1)!.duration - 1600)).toBeLessThanOrEqual(160);
    expect((await call.bye()).status).toBe(200);
  });
});
