// Issue 8 items 1 and 2 through a real gateway (buildGateway) on loopback: an attacker on 127.0.0.66 tries
// to reflect the gateway's answers onto a victim on 127.0.0.77 (Via maddr, forged received/rport, a TCP
// request naming the victim), sends unauthenticated INVITEs it never ACKs, and fills the server-transaction
// table. Every figure is counted on real sockets. Run:
//   unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/security/reflection.test.ts'
import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { answerChallenge } from '../../../gateway/sip/auth/index.js';
import { ATTACKER, headerOf, phoneHeaders, phoneOffer, sipRequest, statusOf, tcpFromAttacker, UdpPeer, Victim, type Datagram } from './peers.js';

const ALICE = { name: 'alice', password: 'alice-secret' };
const T1_MS = 25;
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** What the gateway logs (debug level), one parsed line each: `seen(msg)` waits for a line. */
function logCapture(): { stream: { write(line: string): void }; seen(msg: string): Promise<void> } {
  const lines: Array<{ msg?: string }> = [];
  let wake: () => void = () => undefined;
  return {
    stream: {
      write(line) {
        lines.push(JSON.parse(line) as { msg?: string });
        wake();
      },
    },
    async seen(msg) {
      while (!lines.some((l) => l.msg === msg)) await new Promise<void>((resolve) => (wake = resolve));
    },
  };
}

async function startGateway(
  sip: Record<string, unknown> = {},
  t1 = T1_MS,
  more: Record<string, unknown> = {},
  log?: ReturnType<typeof logCapture>,
): Promise<{ gw: Gateway; udp: number; tcp: number }> {
  const config = parseConfig(
    {
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'], ...sip },
      media: { rtpPorts: '46000-46099', address: '127.0.0.1' },
      users: [ALICE],
      log: { level: 'silent' },
      ...more,
    },
    'security integration test',
  );
  const logger = log ? createLogger('debug', log.stream) : createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent');
  const gw = buildGateway(config, { logger, timers: { t1 } });
  cleanups.push(() => gw.stop());
  await gw.start();
  return { gw, udp: gw.sipAddress('udp')!.port, tcp: gw.sipAddress('tcp')!.port };
}

async function udpPeer(address: string, port = 0): Promise<UdpPeer> {
  const peer = await UdpPeer.bind(address, port);
  cleanups.push(() => peer.close());
  return peer;
}

async function victim(): Promise<Victim> {
  const v = await Victim.start();
  cleanups.push(() => v.close());
  return v;
}

/** A plain OPTIONS from `peer` answered at `peer`: everything the gateway sent before its answer has been
 *  delivered on loopback by then (one socket, in order), so a count read afterwards is final. */
async function barrier(peer: UdpPeer, gwPort: number, n: number): Promise<void> {
  const before = peer.received.length;
  const extra = phoneHeaders(ATTACKER, peer.port);
  await peer.send(sipRequest({ method: 'OPTIONS', via: `SIP/2.0/UDP ${ATTACKER}:${peer.port};branch=z9hG4bK-bar${n};rport`, callId: `bar-${n}`, extra }), gwPort);
  while (peer.received.length === before) await peer.next();
}

/** Datagrams `peer` receives over `ms`: absence (no retransmission) can only be shown over a time window —
 *  here RFC 3261's own: Timer H, 64*T1, after which a kept transaction would have given up. */
async function observe(peer: UdpPeer, ms: number): Promise<Datagram[]> {
  const from = peer.received.length;
  const end = Date.now() + ms;
  while (Date.now() < end) await Promise.race([peer.next(), new Promise((r) => setTimeout(r, end - Date.now()))]);
  return peer.received.slice(from);
}

describe('no reflection (issue 8 item 1)', { timeout: 15_000 }, () => {
  it('UDP: Via maddr, a forged received and a forged rport never steer a response to the victim', async () => {
    const { udp } = await startGateway();
    const v = await victim();
    // Same port number as the victim's, so a sent-by naming the victim's port still leads to the attacker.
    const samePort = await udpPeer(ATTACKER, v.port);
    const other = await udpPeer(ATTACKER);
    const tries: Array<[UdpPeer, string, 'INVITE' | 'REGISTER' | 'OPTIONS']> = [
      [samePort, `SIP/2.0/UDP 127.0.0.77:${v.port};maddr=127.0.0.77;branch=z9hG4bK-r1`, 'INVITE'],
      [samePort, `SIP/2.0/UDP 127.0.0.77:${v.port};maddr=127.0.0.77;branch=z9hG4bK-r2`, 'REGISTER'],
      [other, `SIP/2.0/UDP 127.0.0.77:${v.port};received=127.0.0.77;rport=${v.port};branch=z9hG4bK-r3`, 'INVITE'],
      [other, `SIP/2.0/UDP ${ATTACKER}:${other.port};received=127.0.0.77;rport=${v.port};branch=z9hG4bK-r4`, 'OPTIONS'],
      [other, `SIP/2.0/UDP 127.0.0.77:${v.port};maddr=127.0.0.77;rport;branch=z9hG4bK-r5`, 'REGISTER'],
    ];
    for (const [i, [peer, via, method]] of tries.entries()) {
      // A phone's request (Contact, User-Agent, Allow …): its answer fits in its size (no amplification).
      await peer.send(sipRequest({ method, via, callId: `refl-${i}`, uri: 'sip:127.0.0.1', extra: phoneHeaders(ATTACKER, peer.port) }), udp);
      const answer = await peer.next();
      // Answered at the attacker's real source: a challenge (INVITE 407, REGISTER 401) or OPTIONS 200.
      expect(statusOf(answer.text)).toBe(method === 'INVITE' ? 407 : method === 'REGISTER' ? 401 : 200);
      expect(headerOf(answer.text, 'Via')).toContain(`received=${ATTACKER}`);
      if (via.includes('rport')) expect(headerOf(answer.text, 'Via')).toContain(`rport=${peer.port}`);
    }
    await barrier(other, udp, 1);
    expect(v.bytes).toBe(0);
    expect(v.connections).toBe(0);
  });

  it('TCP: a request whose Via names the victim is answered on its own connection; the victim sees nothing', async () => {
    const { udp, tcp } = await startGateway();
    const v = await victim();
    const conn = await tcpFromAttacker(tcp);
    cleanups.push(async () => conn.socket.destroy());
    const via = `SIP/2.0/TCP 127.0.0.77:${v.port};received=127.0.0.77;rport=${v.port};maddr=127.0.0.77;branch=z9hG4bK-t1`;
    // Half-close right after the request, as a reflection attempt would.
    conn.socket.end(sipRequest({ method: 'INVITE', via, callId: 'tcp-refl', sdp: phoneOffer('127.0.0.77') }));
    const text = await conn.until(/\r\n\r\n/);
    expect(statusOf(text)).toBe(407);
    expect(headerOf(text, 'Via')).toContain(`received=${ATTACKER}`);
    const probe = await udpPeer(ATTACKER);
    await barrier(probe, udp, 2);
    expect(v.connections).toBe(0);
    expect(v.bytes).toBe(0);
  });
});

/** An authenticated INVITE over a fresh TCP connection from the attacker, half-closed right after it, routed
 *  to a trunk that never answers: the 100 Trying (200 ms) and the final response come after the connection
 *  is gone — the one moment RFC 3261 §18.2.2 would open a new connection: to the received address (the
 *  sender's host) at the sent-by port the sender chose, i.e. into any service on that host (`sideDoor`). */
async function lateResponseAfterClose(routing: 'strict' | 'rfc3261', log?: ReturnType<typeof logCapture>): Promise<{ v: Victim; sideDoor: Victim }> {
  const trunk = await udpPeer('127.0.0.1');
  const more = {
    trunks: [{ name: 'silent', uri: `sip:127.0.0.1:${trunk.port};transport=udp`, keepalive: false }],
    routes: [{ match: '^555', trunk: 'silent' }],
  };
  const { tcp } = await startGateway({ responseRouting: routing }, T1_MS, more, log);
  const v = await victim();
  const sideDoor = await Victim.start(ATTACKER, v.port);
  cleanups.push(() => sideDoor.close());
  const uri = 'sip:5551234@127.0.0.1';
  const first = await tcpFromAttacker(tcp);
  cleanups.push(async () => first.socket.destroy());
  first.socket.write(sipRequest({ method: 'INVITE', via: `SIP/2.0/TCP ${ATTACKER}:5060;branch=z9hG4bK-l1`, callId: 'late', sdp: phoneOffer(ATTACKER) }));
  const challenge = await first.until(/\r\n\r\n/);
  const credentials = answerChallenge({ challenge: headerOf(challenge, 'Proxy-Authenticate')!, username: ALICE.name, password: ALICE.password, method: 'INVITE', uri });
  const second = await tcpFromAttacker(tcp);
  cleanups.push(async () => second.socket.destroy());
  const via = `SIP/2.0/TCP 127.0.0.77:${v.port};branch=z9hG4bK-l2`;
  second.socket.write(sipRequest({ method: 'INVITE', via, callId: 'late', cseq: 2, uri, extra: [`Proxy-Authorization: ${credentials}`], sdp: phoneOffer(ATTACKER) }));
  await trunk.next(); // the call went on to the trunk (after its media offer, which may wait for a media worker to start)
  second.socket.end(); // then the caller's connection goes: what the trunk's side still sends is late
  return { v, sideDoor };
}

describe('no reflection over TCP after the request connection closed', { timeout: 15_000 }, () => {
  it('rfc3261 (the control): a late response opens a connection to the sender-chosen port and writes into it', async () => {
    const { sideDoor } = await lateResponseAfterClose('rfc3261');
    while (sideDoor.tcpBytes === 0) await new Promise((r) => setTimeout(r, 20));
    expect(sideDoor.connections).toBeGreaterThan(0);
  });

  it('strict (default): the late responses are dropped — 0 connections and 0 bytes at the victim and the sender-chosen port', async () => {
    const log = logCapture();
    const { v, sideDoor } = await lateResponseAfterClose('strict', log);
    // The caller's connection closed: the call ends and its final response is dropped (logged at debug).
    await log.seen('response dropped');
    expect([v.connections, v.bytes, sideDoor.connections, sideDoor.bytes]).toEqual([0, 0, 0, 0]);
  });
});

describe('stateless challenges (issue 8 item 2)', { timeout: 15_000 }, () => {
  it('an unACKed unauthenticated INVITE over UDP gets its 407 exactly once; bytes out ≤ bytes in', async () => {
    const { udp } = await startGateway();
    const phone = await udpPeer(ATTACKER);
    const scanner = await udpPeer(ATTACKER);
    const invite = sipRequest({
      method: 'INVITE',
      via: `SIP/2.0/UDP ${ATTACKER}:${phone.port};branch=z9hG4bK-once;rport`,
      callId: 'once',
      extra: [`Contact: <sip:alice@${ATTACKER}:${phone.port}>`, 'User-Agent: desk phone', 'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS'],
      sdp: phoneOffer(ATTACKER),
    });
    const minimal = sipRequest({ method: 'INVITE', via: `SIP/2.0/UDP ${ATTACKER}:${scanner.port};branch=z9hG4bK-min`, callId: 'm' });
    const bytesIn = await phone.send(invite, udp);
    const minimalIn = await scanner.send(minimal, udp);
    // Timer G would have resent a kept 407 at T1, 2T1, 4T1 … and Timer H ends a kept one at 64*T1.
    const [got, gotMinimal] = await Promise.all([observe(phone, 64 * T1_MS + 400), observe(scanner, 64 * T1_MS + 400)]);
    expect(got.map((d) => statusOf(d.text))).toEqual([407]);
    const ratio = got[0]!.bytes / bytesIn;
    // A hand-made minimal INVITE (225 B): no 407 fits in it, even compact — no answer at all (amplification
    // 0×); the phone's INVITE gets its challenge within its own size (README "Security").
    expect(minimalIn).toBeLessThanOrEqual(240);
    expect(gotMinimal).toEqual([]);
    expect(ratio).toBeLessThanOrEqual(1);
    // Its retransmission is simply challenged again, statelessly: one more 407, still none repeated.
    await phone.send(invite, udp);
    const again = await observe(phone, 64 * T1_MS + 400);
    expect(again.map((d) => statusOf(d.text))).toEqual([407]);
  });

  it('a full server-transaction table → 503 with Retry-After; challenges and OPTIONS still answered', async () => {
    // T1 at its default: the 404 below stays in Completed (waiting for an ACK) for 64*T1 = 32 s.
    const { udp } = await startGateway({ maxServerTransactions: 1 }, 500);
    const phone = await udpPeer(ATTACKER);
    const via = (b: string): string => `SIP/2.0/UDP ${ATTACKER}:${phone.port};branch=z9hG4bK-${b};rport`;
    const uri = 'sip:5551234@127.0.0.1';
    await phone.send(sipRequest({ method: 'INVITE', via: via('c1'), callId: 'cap-1', sdp: phoneOffer(ATTACKER) }), udp);
    const challenge = await phone.next();
    expect(statusOf(challenge.text)).toBe(407);
    const credentials = answerChallenge({
      challenge: headerOf(challenge.text, 'Proxy-Authenticate')!,
      username: ALICE.name,
      password: ALICE.password,
      method: 'INVITE',
      uri,
    });
    const authed = sipRequest({ method: 'INVITE', via: via('c2'), callId: 'cap-1', cseq: 2, uri, extra: [`Proxy-Authorization: ${credentials}`], sdp: phoneOffer(ATTACKER) });
    await phone.send(authed, udp);
    // No route configured: 404, and its transaction stays (Completed, never ACKed) — the table is full.
    expect(statusOf((await phone.next()).text)).toBe(404);
    await phone.send(sipRequest({ method: 'INVITE', via: via('c3'), callId: 'cap-2', sdp: phoneOffer(ATTACKER) }), udp);
    let overload = await phone.next();
    while (statusOf(overload.text) === 404) overload = await phone.next(); // a Timer G resend of the 404
    expect(statusOf(overload.text)).toBe(503);
    expect(headerOf(overload.text, 'Retry-After')).toBe('5');
    expect(headerOf(overload.text, 'Call-ID')).toBe('cap-2');
    // Non-INVITE requests have their own table: an OPTIONS is still answered.
    await phone.send(sipRequest({ method: 'OPTIONS', via: via('o1'), callId: 'cap-o', extra: phoneHeaders(ATTACKER, phone.port) }), udp);
    let options = await phone.next();
    while (statusOf(options.text) === 404) options = await phone.next();
    expect(statusOf(options.text)).toBe(200);
    // Out-of-dialog OPTIONS are answered statelessly: with a non-INVITE table of 1, a second one (the first
    // would still hold its slot for 64*T1 if it were kept) is answered 200 too, not 503.
    await phone.send(sipRequest({ method: 'OPTIONS', via: via('o2'), callId: 'cap-o2', extra: phoneHeaders(ATTACKER, phone.port) }), udp);
    let second = await phone.next();
    while (statusOf(second.text) === 404) second = await phone.next();
    expect(statusOf(second.text)).toBe(200);
  });
});
