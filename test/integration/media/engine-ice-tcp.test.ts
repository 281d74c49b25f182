// ICE-TCP on a browser leg (RFC 6544 passive candidate, RFC 4571 framing), against a raw TCP client
// that plays the browser's active candidate. Loopback-only namespace (see engine-relay.test.ts).
import net from 'node:net';
import * as sdpTransform from 'sdp-transform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createEmbeddedMediaEngine } from '../../../gateway/media/index.js';
import { ATTR, decodeXorAddress, getAttribute, verifyMessageIntegrity } from '../../../gateway/media/stun/index.js';
import type { MediaEngine } from '../../../gateway/media/types.js';
import { bindsFree, countFrames, frame, rtpPacket, until } from './peers.js';
import { TcpPeer, engineSide, tcpBrowserIdentity, tcpBrowserOffer, type TcpBrowserIdentity } from './tcp-peer.js';

const CHECK_TIMEOUT_MS = 400;
const MAX_CONNECTIONS = 2;

/** Whether a TCP listen on 127.0.0.1:port succeeds now (the port is free for TCP). */
function tcpListenable(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function connectRefused(port: number): Promise<boolean> {
  return TcpPeer.connect(port).then(
    (peer) => {
      peer.close();
      return false;
    },
    (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED',
  );
}

describe('embedded media engine: ICE-TCP passive candidate on browser legs', () => {
  let engine: MediaEngine;
  let from: number;
  let id: TcpBrowserIdentity;
  const peers: TcpPeer[] = [];

  async function start(iceTcp = true): Promise<void> {
    from = 30000 + 2 * Math.floor(Math.random() * 10000);
    engine = await createEmbeddedMediaEngine({
      bindAddress: '127.0.0.1',
      portRange: { from, to: from + 9 },
      logger: createLogger('silent'),
      iceTcp,
      iceTcpLimits: { checkTimeoutMs: CHECK_TIMEOUT_MS, maxConnections: MAX_CONNECTIONS },
    });
  }

  /** An echo call for a browser offer; the engine's answer. */
  async function echoCall(callId = 'e'): Promise<ReturnType<typeof engineSide> & { udpPort: number }> {
    const { sdp } = await engine.echo({ callId, fromTag: 'browser', sdp: tcpBrowserOffer(id) });
    return { ...engineSide(sdp), udpPort: sdpTransform.parse(sdp).media[0]!.port };
  }

  async function connect(port: number): Promise<TcpPeer> {
    const peer = await TcpPeer.connect(port);
    peers.push(peer);
    return peer;
  }

  beforeEach(async () => {
    id = await tcpBrowserIdentity();
  });

  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    await engine?.close();
  });

  it('a framed Binding request with the leg’s credentials gets a framed success with the connection’s XOR-MAPPED-ADDRESS; wrong ones a 401', async () => {
    await start();
    const leg = await echoCall();
    expect(leg.tcpPort).toBe(leg.udpPort);
    const peer = await connect(leg.tcpPort!);

    const bad = await peer.check(id, { ufrag: leg.ufrag, pwd: 'notTheLegsPassword000000' });
    expect(bad.cls).toBe('error');
    expect(peer.closedByPeer).toBe(false); // a failed check is answered, not punished

    const ok = await peer.check(id, leg);
    expect(ok.cls).toBe('success');
    expect(verifyMessageIntegrity(ok, leg.pwd)).toBe(true);
    const mapped = decodeXorAddress(getAttribute(ok, ATTR.XOR_MAPPED_ADDRESS)!.value, ok.transactionId);
    expect(mapped).toMatchObject(peer.local);
  });

  it('DTLS and SRTP run over the checked connection: the echo comes back framed on it', async () => {
    await start();
    const leg = await echoCall();
    const peer = await connect(leg.tcpPort!);
    await peer.check(id, leg);
    await peer.handshake(id, leg.fingerprint);
    for (let n = 0; n < 60; n++) {
      peer.sendRtp(n + 1, frame(n));
      await new Promise((r) => setTimeout(r, 2)); // pacing
    }
    await until(() => countFrames(peer.media, 0, 60) >= 55, 5000, 'the echoed frames on the TCP connection');
    const stats = engine.stats('e')!.legs.browser!;
    expect(stats.packetsIn).toBeGreaterThanOrEqual(55);
    expect(stats.packetsOut).toBeGreaterThanOrEqual(55);
  });

  it('garbage closes the connection: an HTTP request, media before a valid check, an oversize frame', async () => {
    await start();
    const leg = await echoCall();
    const http = await connect(leg.tcpPort!);
    http.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const early = await connect(leg.tcpPort!);
    early.send(rtpPacket(1, frame(1)).serialize());
    await http.waitClosed(2000);
    await early.waitClosed(2000);
    const big = await connect(leg.tcpPort!);
    await big.check(id, leg); // even a checked connection may not send more than the frame limit
    big.socket.write(Buffer.from([0xff, 0xff]));
    await big.waitClosed(2000);
    expect(big.packets).toHaveLength(1); // the check's response, nothing else
  });

  it('a connection without a valid check is closed after the check timeout; a checked one stays open', async () => {
    await start();
    const leg = await echoCall();
    const silent = await connect(leg.tcpPort!);
    const checked = await connect(leg.tcpPort!);
    await checked.check(id, leg);
    const t0 = Date.now();
    await silent.waitClosed(CHECK_TIMEOUT_MS + 2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(CHECK_TIMEOUT_MS - 100);
    // A second silent connection, opened now, is closed a full timeout later: by then the checked one
    // has lived twice the timeout, and still answers checks.
    const later = await connect(leg.tcpPort!);
    await later.waitClosed(CHECK_TIMEOUT_MS + 2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2 * CHECK_TIMEOUT_MS - 100);
    expect((await checked.check(id, leg)).cls).toBe('success');
    expect(checked.closedByPeer).toBe(false);
  });

  it(`at most ${MAX_CONNECTIONS} connections: a new one evicts the oldest unchecked, and is refused when all are checked`, async () => {
    await start();
    const leg = await echoCall();
    const a = await connect(leg.tcpPort!);
    await a.check(id, leg);
    const b = await connect(leg.tcpPort!); // unchecked
    const c = await connect(leg.tcpPort!); // evicts b
    await b.waitClosed(2000);
    expect((await c.check(id, leg)).cls).toBe('success');
    const d = await connect(leg.tcpPort!); // a and c checked: d is refused
    await d.waitClosed(2000);
    expect(a.closedByPeer || c.closedByPeer).toBe(false);
  });

  it('deleting the call closes its connections and frees the TCP port', async () => {
    await start();
    const leg = await echoCall();
    const peer = await connect(leg.tcpPort!);
    await peer.check(id, leg);
    expect(await tcpListenable(leg.tcpPort!)).toBe(false);
    await engine.delete('e');
    await peer.waitClosed(2000);
    expect(await tcpListenable(leg.tcpPort!)).toBe(true);
    expect(await bindsFree(leg.udpPort)).toBe(true);
  });

  it('port allocation: a port whose TCP side another process holds is skipped although its UDP side is free', async () => {
    await start();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen({ port: from, host: '127.0.0.1', exclusive: true }, resolve));
    try {
      const leg = await echoCall();
      expect(leg.udpPort).toBe(from + 1);
      expect(leg.tcpPort).toBe(from + 1);
      expect(await bindsFree(from)).toBe(true); // the UDP socket bound on `from` was closed again
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  it('media.iceTcp false: no TCP candidate, and nothing listens on TCP at the leg’s port', async () => {
    await start(false);
    const leg = await echoCall();
    expect(leg.tcpPort).toBeUndefined();
    expect(await connectRefused(leg.udpPort)).toBe(true);
  });
});
