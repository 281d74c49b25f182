import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createResponse, parseMessage, serializeMessage } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { createTransport, type TransportOptions } from '../../../gateway/sip/transport/index.js';
import { TransportError, type SipTransport } from '../../../gateway/sip/transport/types.js';
import { createTestPki, type TestPki } from '../../support/tls.js';
import { header, nextMessage, request } from './helpers.js';

function options(callId: string, port: number): SipRequest {
  return {
    kind: 'request',
    method: 'OPTIONS',
    uri: `sip:peer@localhost:${port};transport=tls`,
    version: 'SIP/2.0',
    headers: [
      { name: 'Via', value: `SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK${callId}` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: '<sip:gw@127.0.0.1>;tag=g1' },
      { name: 'To', value: '<sip:peer@localhost>' },
      { name: 'Call-ID', value: callId },
      { name: 'CSeq', value: '1 OPTIONS' },
    ],
    body: Buffer.alloc(0),
  };
}

/** A TLS SIP peer: records SNI and every message, answers each request 200 on the same connection. */
async function startPeer(pki: TestPki): Promise<{ port: number; sni: string[]; connections: number; messages: string[]; close(): Promise<void> }> {
  const state = { sni: [] as string[], connections: 0, messages: [] as string[] };
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert: pki.cert, key: pki.key }, (socket) => {
    state.connections += 1;
    sockets.add(socket);
    state.sni.push(socket.servername || '');
    socket.on('data', (chunk: Buffer) => {
      state.messages.push(chunk.toString());
      const req = parseMessage(chunk, { stream: true });
      if (req.kind === 'request') socket.write(serializeMessage(createResponse(req, 200, 'OK')));
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get sni() {
      return state.sni;
    },
    get connections() {
      return state.connections;
    },
    messages: state.messages,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('TLS transport', { timeout: 5000 }, () => {
  let pki: TestPki;
  let transport: SipTransport | undefined;
  let peer: Awaited<ReturnType<typeof startPeer>> | undefined;
  const start = async (extra: Partial<TransportOptions>): Promise<SipTransport> => {
    transport = await createTransport({ listen: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], logger: createLogger('silent'), ...extra });
    return transport;
  };
  beforeAll(() => {
    pki = createTestPki('transport');
  });
  afterAll(() => pki.remove());
  afterEach(async () => {
    await transport?.close();
    await peer?.close();
    transport = undefined;
    peer = undefined;
  });

  it('dials a configured peer with SNI = its host name, verifies it with the peer CA and reuses the connection', async () => {
    peer = await startPeer(pki);
    const t = await start({ tlsClient: { peers: [{ host: 'localhost', port: peer.port, ca: pki.ca }], lookup: async () => ['127.0.0.1'] } });
    const answered = nextMessage(t);
    const flow = await t.send(options('tls-1', peer.port), { transport: 'tls', address: '127.0.0.1', port: peer.port });
    expect(flow.transport).toBe('tls');
    expect(flow.reliable).toBe(true);
    const { message, flow: inFlow } = await answered;
    expect(message.kind === 'response' && message.status).toBe(200);
    expect(inFlow.id).toBe(flow.id);
    const again = await t.send(options('tls-2', peer.port), { transport: 'tls', address: '127.0.0.1', port: peer.port });
    expect(again.id).toBe(flow.id);
    expect(peer.connections).toBe(1);
    expect(peer.sni).toEqual(['localhost']);
    expect(header(peer.messages[0]!, 'Call-ID')).toBe('tls-1');
  });

  it('refuses a server certificate not signed by a trusted CA (verification on by default)', async () => {
    peer = await startPeer(pki);
    const t = await start({ tlsClient: {} });
    const sent = t.send(options('tls-3', peer.port), { transport: 'tls', address: '127.0.0.1', port: peer.port });
    await expect(sent).rejects.toBeInstanceOf(TransportError);
    await expect(sent).rejects.toThrow(/tls connect to 127\.0\.0\.1:\d+ failed: .*certificate/);
    expect(peer.messages).toEqual([]);
  });

  it('refuses a trusted certificate that does not name the target (servername mismatch)', async () => {
    peer = await startPeer(pki);
    const t = await start({ tlsClient: {} });
    const target = { transport: 'tls' as const, address: '127.0.0.1', port: peer.port, tls: { ca: pki.ca, servername: 'pbx.example.com' } };
    await expect(t.send(options('tls-4', peer.port), target)).rejects.toThrow(/pbx\.example\.com/);
  });

  it('accepts any certificate with verify: false, and an IP target checked against the IP SAN', async () => {
    peer = await startPeer(pki);
    const t = await start({ tlsClient: { peers: [{ host: '127.0.0.1', port: peer.port, verify: false }] } });
    const first = nextMessage(t);
    await expect(t.send(options('tls-5', peer.port), { transport: 'tls', address: '127.0.0.1', port: peer.port })).resolves.toMatchObject({ transport: 'tls' });
    await first;
    const byIp = { transport: 'tls' as const, address: '127.0.0.1', port: peer.port, tls: { ca: pki.ca } };
    await transport!.close();
    const t2 = await start({ tlsClient: {} });
    const answered = nextMessage(t2);
    await expect(t2.send(options('tls-6', peer.port), byIp)).resolves.toMatchObject({ transport: 'tls' });
    await answered;
    // RFC 6066 §3: no IP literal as SNI.
    expect(peer.sni).toEqual(['', '']);
  });

  it('a tls listening point presents the certificate, delivers requests on a tls flow and answers on it', async () => {
    const t = await start({ listen: [{ transport: 'tls', address: '127.0.0.1', port: 0 }], tlsServer: { cert: pki.cert, key: pki.key } });
    const local = t.localAddress('tls')!;
    expect(local.port).toBeGreaterThan(0);
    const got = nextMessage(t);
    const client = tls.connect({ host: '127.0.0.1', port: local.port, ca: pki.ca, servername: 'localhost' });
    try {
      await new Promise<void>((resolve, reject) => client.once('secureConnect', resolve).once('error', reject));
      const reply = new Promise<string>((resolve) => client.once('data', (d: Buffer) => resolve(d.toString())));
      client.write(request({ via: 'SIP/2.0/TLS client.invalid;branch=z9hG4bKtlsin', callId: 'in-1' }));
      const { message, flow } = await got;
      expect(flow.transport).toBe('tls');
      expect(message.kind).toBe('request');
      await t.sendResponse(createResponse(message as SipRequest, 200, 'OK'), flow);
      const text = await reply;
      expect(text).toMatch(/^SIP\/2\.0 200 OK/);
      expect(header(text, 'Via')).toMatch(/received=127\.0\.0\.1/);
    } finally {
      client.destroy();
    }
  });

  it('without a tls listening point or client, localAddress("tls") is undefined; with a client it is the TCP address', async () => {
    const t = await start({});
    expect(t.localAddress('tls')).toBeUndefined();
    await t.close();
    const t2 = await start({ tlsClient: {} });
    expect(t2.localAddress('tls')).toEqual(t2.localAddress('tcp'));
  });

  it('a tls listening point without a certificate fails to start with a clear reason', async () => {
    await expect(start({ listen: [{ transport: 'tls', address: '127.0.0.1', port: 0 }] })).rejects.toThrow(/no certificate/);
  });
});
