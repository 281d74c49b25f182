// The gateway as main runs it (buildGateway) with media.engine: rtpengine: a WebSocket client plays
// the browser, SIPp the trunk, a loopback rtpengine relays the media.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sdpTransform from 'sdp-transform';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { startSipp, type SippHandle } from '../../support/sipp.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { startRtpengine, type Rtpengine } from '../media/rtpengine-launch.js';
import { TRUNK_CREDENTIALS, USER } from './harness.js';

const traceDir = mkdtempSync(join(tmpdir(), 'rtpengine-gw-'));
let rtpengine: Rtpengine | undefined;
let gw: Gateway | undefined;
let client: WsSipClient | undefined;
let sipp: SippHandle | undefined;

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await sipp?.stop().catch(() => undefined);
  await gw?.stop().catch(() => undefined);
  await rtpengine?.stop();
  await stopAllProcesses();
});

const inRtpengineRange = (port: number) => port >= rtpengine!.portMin && port < rtpengine!.portMin + 200;

describe('gateway with media.engine rtpengine', () => {
  it('an outbound call: SIPp gets rtpengine\'s RTP/AVP offer, the browser rtpengine\'s WebRTC answer', async () => {
    rtpengine = await startRtpengine();
    const trunkPort = await freeSipPort();
    const media = await freeUdpPortPair();
    sipp = startSipp({ scenario: 'uas-answer', localPort: trunkPort, mediaPort: media.rtp, traceDir, transport: 'udp', keys: { auth_realm: 'trunk.test' } });
    await sipp.ready;
    const config = configSchema.parse({
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0'] },
      media: { engine: 'rtpengine', rtpengine: `127.0.0.1:${rtpengine.ngPort}` },
      users: [USER],
      trunks: [{ name: 'sipp', uri: `sip:127.0.0.1:${trunkPort}`, ...TRUNK_CREDENTIALS }],
      routes: [{ match: '^\\+?\\d{4,15}$', trunk: 'sipp' }],
      log: { level: 'silent' },
    });
    gw = buildGateway(config, { logger: createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent') });
    await gw.start();
    client = await WsSipClient.connect({ url: `${gw.httpUrl.replace(/^http/, 'ws')}sip`, user: USER.name, password: USER.password });

    const call = client.invite('5551234');
    const final = await call.final;
    expect(final.status).toBe(200);
    const answer = sdpTransform.parse(final.body.toString());
    expect(answer.media[0]!.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect(answer.icelite).toBe('ice-lite');
    expect(inRtpengineRange(answer.media[0]!.port)).toBe(true);

    const invite = sipp.messages().find((e) => e.direction === 'received' && e.message.kind === 'request' && e.message.method === 'INVITE')!;
    const offer = sdpTransform.parse(invite.message.body.toString());
    const audio = offer.media[0]!;
    expect(audio.protocol).toBe('RTP/AVP');
    expect(audio.rtp.map((r) => r.codec).sort()).toEqual(['PCMA', 'PCMU', 'telephone-event']);
    expect(offer.fingerprint ?? audio.fingerprint).toBeUndefined();
    expect(inRtpengineRange(audio.port)).toBe(true);

    expect((await call.bye()).status).toBe(200);
    expect((await sipp.exited).code).toBe(0);
  });
});
