// Issue 8: amplification ≤ 1× for unauthenticated requests over UDP, through a real gateway (buildGateway)
// on loopback. Every answer the gateway gives a request whose source is not proven — challenges, 403/404
// before any digest, 481, §8.2 rejections (405/416/420/483), the 400 to garbage, 200 to OPTIONS — is
// counted in bytes at the sender over RFC 3261's whole retransmission window (64*T1), against the bytes it
// sent. Minimal hand-made requests (the 225-byte INVITE among them) may get nothing; the same
// requests as a phone writes them get their answer, still ≤ 1×; a SIPp desk phone still registers.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/security/fuzz-amplification.test.ts'
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { freeSipPort } from '../../support/ports.js';
import { startSipp } from '../../support/sipp.js';
import { phoneHeaders, phoneOffer, sipRequest, statusOf, UdpPeer, type RequestText } from './peers.js';

const T1_MS = 25;
const SENDER = '127.0.30.30';
const REGISTER_SCENARIO = join(import.meta.dirname, '..', 'registrar', 'register-auth.xml');
let gw: Gateway;
let udp: number;
const peers: UdpPeer[] = [];

beforeAll(async () => {
  const config = parseConfig(
    {
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0'], domain: '127.0.0.1' },
      media: { rtpPorts: '46300-46399', address: '127.0.0.1' },
      users: [{ name: 'alice', password: 'alice-secret', dids: ['15550001'] }],
      log: { level: 'silent' },
      security: { rateLimit: false },
    },
    'fuzz-amplification test',
  );
  gw = buildGateway(config, { logger: createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent'), timers: { t1: T1_MS } });
  await gw.start();
  udp = gw.sipAddress('udp')!.port;
});

afterAll(async () => {
  for (const p of peers) await p.close();
  await gw?.stop();
});

type Case = { name: string; expect: number; request: (port: number, phone: boolean) => string };

/** A request as `sipRequest` writes it (the bare minimum), or as a phone does (phoneHeaders). */
function req(r: Omit<RequestText, 'via' | 'callId'> & { method: string }, name: string): (port: number, phone: boolean) => string {
  return (port, phone) =>
    sipRequest({
      ...(r as RequestText),
      via: `SIP/2.0/UDP ${SENDER}:${port};branch=z9hG4bK-${name}-${phone ? 'p' : 'm'};rport`,
      callId: `${name}-${phone ? 'p' : 'm'}`,
      extra: [...(r.extra ?? []), ...(phone ? phoneHeaders(SENDER, port) : [])],
    });
}

const CASES: Case[] = [
  { name: 'invite', expect: 407, request: req({ method: 'INVITE' }, 'invite') },
  { name: 'invite-sdp', expect: 407, request: (port, phone) => req({ method: 'INVITE', sdp: phone ? phoneOffer(SENDER) : undefined }, 'invite-sdp')(port, phone) },
  { name: 'register', expect: 401, request: req({ method: 'REGISTER', uri: 'sip:127.0.0.1' }, 'register') },
  { name: 'register-domain', expect: 404, request: req({ method: 'REGISTER', uri: 'sip:elsewhere.example' }, 'register-domain') },
  { name: 'options', expect: 200, request: req({ method: 'OPTIONS', uri: 'sip:127.0.0.1' }, 'options') },
  { name: 'did', expect: 403, request: req({ method: 'INVITE', uri: 'sip:15550001@127.0.0.1' }, 'did') },
  { name: 'bye', expect: 481, request: (port, phone) => req({ method: 'INVITE' }, 'bye')(port, phone).replace(/^INVITE/, 'BYE').replace('1 INVITE', '1 BYE') },
  { name: 'in-dialog', expect: 481, request: (port, phone) => req({ method: 'INVITE' }, 'dlg')(port, phone).replace(/^(To: <[^>]*>)/m, '$1;tag=nosuch') },
  { name: 'cancel', expect: 481, request: (port, phone) => req({ method: 'INVITE' }, 'cancel')(port, phone).replace(/^INVITE/, 'CANCEL').replace('1 INVITE', '1 CANCEL') },
  { name: 'method', expect: 405, request: (port, phone) => req({ method: 'INVITE' }, 'method')(port, phone).replace(/^INVITE/, 'FOO').replace('1 INVITE', '1 FOO') },
  { name: 'require', expect: 420, request: req({ method: 'INVITE', extra: ['Require: nosuch-extension'] }, 'require') },
  { name: 'hops', expect: 483, request: (port, phone) => req({ method: 'INVITE' }, 'hops')(port, phone).replace('Max-Forwards: 70', 'Max-Forwards: 0') },
  { name: 'scheme', expect: 416, request: req({ method: 'INVITE', uri: 'foo:bar@127.0.0.1' }, 'scheme') },
  { name: 'garbage', expect: 400, request: (port, phone) => req({ method: 'INVITE' }, 'garbage')(port, phone).replace('CSeq: 1 INVITE', 'CSeq: one INVITE') },
];

interface Exchange {
  name: string;
  bytesIn: number;
  bytesOut: number;
  statuses: number[];
}

/** Each case from its own socket, all at once; everything that comes back over 64*T1 + 400 ms (Timer H
 *  would have ended a kept transaction by then; every retransmission of it would have come). */
async function exchange(phone: boolean): Promise<Exchange[]> {
  return Promise.all(
    CASES.map(async (c) => {
      const peer = await UdpPeer.bind(SENDER);
      peers.push(peer);
      const bytesIn = await peer.send(c.request(peer.port, phone), udp);
      await new Promise((r) => setTimeout(r, 64 * T1_MS + 400));
      return { name: c.name, bytesIn, bytesOut: peer.bytes, statuses: peer.received.map((d) => statusOf(d.text)) };
    }),
  );
}

describe('amplification ≤ 1× over UDP for unauthenticated requests (issue 8)', { timeout: 30_000 }, () => {
  it('minimal hand-made requests: bytes out ≤ bytes in for each, over the whole retransmission window', async () => {
    const results = await exchange(false);
    for (const r of results) {
      expect(r.bytesOut, `${r.name}: ${r.bytesOut} B out for ${r.bytesIn} B in`).toBeLessThanOrEqual(r.bytesIn);
      expect(r.statuses.length, r.name).toBeLessThanOrEqual(1);
    }
    // A minimal INVITE (about the 225 bytes): no 407 fits in it, even compact — it gets nothing.
    const invite = results.find((r) => r.name === 'invite')!;
    expect(invite.bytesIn).toBeLessThan(300);
    expect(invite.bytesOut).toBe(0);
    if (process.env.FUZZ_REPORT) process.stderr.write(`${JSON.stringify(results)}\n`);
  });

  it('the same requests as a phone writes them: each answered once with its status, still ≤ 1×', async () => {
    const results = await exchange(true);
    for (const [i, r] of results.entries()) {
      expect(r.statuses, r.name).toEqual([CASES[i]!.expect]);
      expect(r.bytesOut, `${r.name}: ${r.bytesOut} B out for ${r.bytesIn} B in`).toBeLessThanOrEqual(r.bytesIn);
    }
    if (process.env.FUZZ_REPORT) process.stderr.write(`${JSON.stringify(results)}\n`);
  });

  it('a SIPp desk phone over UDP is still challenged (401 ≤ its REGISTER) and registers', async () => {
    const traceDir = mkdtempSync(join(tmpdir(), 'fuzz-amp-'));
    const sipp = startSipp({
      scenarioFile: REGISTER_SCENARIO, localPort: await freeSipPort(), remote: `127.0.0.1:${udp}`, traceDir,
      service: 'alice', auth: { username: 'alice', password: 'alice-secret' }, set: { expires: 60 }, timeoutS: 20,
    });
    try {
      const { code } = await sipp.exited;
      expect(code, sipp.errors()).toBe(0);
      const trace = sipp.messages();
      const statuses = trace.filter((e) => e.direction === 'received').map((e) => (e.message.kind === 'response' ? e.message.status : 0));
      expect(statuses).toEqual([401, 200]);
      const firstRegister = trace.find((e) => e.direction === 'sent')!;
      const challenge = trace.find((e) => e.direction === 'received')!;
      expect(Buffer.byteLength(challenge.raw, 'latin1')).toBeLessThanOrEqual(Buffer.byteLength(firstRegister.raw, 'latin1'));
    } finally {
      await sipp.stop();
    }
  });
});
