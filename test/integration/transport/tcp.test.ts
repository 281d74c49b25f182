import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createResponse } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { TransportError } from '../../../gateway/sip/transport/types.js';
import { closedPort, collect, nextMessage, request, startRig, tcpConnect, type Rig } from './helpers.js';

function outbound(uri: string, viaPort: number, callId: string): SipRequest {
  return {
    kind: 'request',
    method: 'OPTIONS',
    uri,
    version: 'SIP/2.0',
    headers: [
      { name: 'Via', value: `SIP/2.0/TCP 127.0.0.1:${viaPort};branch=z9hG4bK${callId}` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: '<sip:gw@127.0.0.1>;tag=g1' },
      { name: 'To', value: '<sip:peer@127.0.0.1>' },
      { name: 'Call-ID', value: callId },
      { name: 'CSeq', value: '1 OPTIONS' },
    ],
    body: Buffer.alloc(0),
  };
}

/** Read from a socket until `pattern` matches the accumulated text. */
function readUntil(socket: net.Socket, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (pattern.test(text)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
  });
}

describe('TCP transport', { timeout: 5000 }, () => {
  let rig: Rig | undefined;
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await rig?.close();
    rig = undefined;
  });

  it('frames two messages arriving in one write', async () => {
    rig = await startRig();
    const seen = collect(rig.transport);
    const socket = await tcpConnect(rig.tcpPort);
    sockets.push(socket);
    const via = (b: string): string => `SIP/2.0/TCP client.invalid:5060;branch=z9hG4bK${b}`;
    socket.write(request({ via: via('one'), callId: 'c1', body: 'x=1' }) + request({ via: via('two'), callId: 'c2' }));
    const [a, b] = await seen.waitFor(2);
    expect(a!.headers.find((h) => h.name === 'Call-ID')?.value).toBe('c1');
    expect(a!.body.toString()).toBe('x=1');
    expect(b!.headers.find((h) => h.name === 'Call-ID')?.value).toBe('c2');
  });

  it('frames one message split over several writes, and answers on the same connection', async () => {
    rig = await startRig();
    const got = nextMessage(rig.transport);
    const socket = await tcpConnect(rig.tcpPort);
    sockets.push(socket);
    const text = request({ via: 'SIP/2.0/TCP client.invalid:5060;branch=z9hG4bKsplit', body: 'hello body' });
    const cut1 = 10;
    const cut2 = text.length - 4;
    socket.write(text.slice(0, cut1));
    await new Promise((resolve) => setImmediate(resolve));
    socket.write(text.slice(cut1, cut2));
    await new Promise((resolve) => setImmediate(resolve));
    socket.write(text.slice(cut2));
    const { message, flow } = await got;
    expect(message.body.toString()).toBe('hello body');
    expect(flow).toMatchObject({ transport: 'tcp', reliable: true, alive: true });

    const answer = readUntil(socket, /\r\n\r\n/);
    await rig.transport.sendResponse(createResponse(message as SipRequest, 200, 'OK'), flow);
    expect(await answer).toMatch(/^SIP\/2\.0 200 OK\r\n/);
  });

  it('reuses an open connection to the same target, and the flow dies when the peer closes', async () => {
    rig = await startRig();
    const peer = net.createServer();
    const accepted = new Promise<net.Socket>((resolve) => peer.once('connection', resolve));
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const port = (peer.address() as net.AddressInfo).port;
    try {
      const target = { transport: 'tcp' as const, address: '127.0.0.1', port };
      const uri = `sip:peer@127.0.0.1:${port};transport=tcp`;
      const [f1, f2] = await Promise.all([
        rig.transport.send(outbound(uri, rig.tcpPort, 'r1'), target),
        rig.transport.send(outbound(uri, rig.tcpPort, 'r2'), target),
      ]);
      expect(f2).toBe(f1);
      expect(f1.alive).toBe(true);
      const closed = new Promise<void>((resolve) => f1.onClose(resolve));
      const peerSide = await accepted;
      peerSide.destroy();
      await closed;
      expect(f1.alive).toBe(false);
      await expect(rig.transport.send(outbound(uri, rig.tcpPort, 'r3'), f1)).rejects.toBeInstanceOf(TransportError);
    } finally {
      await new Promise<void>((resolve) => peer.close(() => resolve()));
    }
  });

  it('a send to a closed TCP port rejects with TransportError', async () => {
    rig = await startRig();
    const port = await closedPort();
    const attempt = rig.transport.send(outbound(`sip:x@127.0.0.1:${port}`, rig.tcpPort, 'dead'), {
      transport: 'tcp',
      address: '127.0.0.1',
      port,
    });
    await expect(attempt).rejects.toBeInstanceOf(TransportError);
    await expect(attempt).rejects.toThrow(/connect/);
  });

  it('a framing error answers 400 and closes the connection', async () => {
    rig = await startRig();
    const socket = await tcpConnect(rig.tcpPort);
    sockets.push(socket);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const answer = readUntil(socket, /\r\n\r\n/);
    // RFC 3261 §18.3: Content-Length is mandatory on stream transports.
    const text = request({ via: 'SIP/2.0/TCP client.invalid:5060;branch=z9hG4bKnolen' }).replace(/Content-Length: 0\r\n/, '');
    socket.write(text);
    expect(await answer).toMatch(/^SIP\/2\.0 400 [^\r\n]*Content-Length/i);
    await closed;
  });

  it('strict (default): a response whose request connection died is dropped — no connection to the Via address', async () => {
    rig = await startRig();
    const peer = net.createServer();
    let connections = 0;
    peer.on('connection', (s) => {
      connections += 1;
      s.destroy();
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const peerPort = (peer.address() as net.AddressInfo).port;
    try {
      const got = nextMessage(rig.transport);
      const socket = await tcpConnect(rig.tcpPort);
      socket.write(request({ via: `SIP/2.0/TCP 127.0.0.1:${peerPort};branch=z9hG4bKst` }));
      const { message, flow } = await got;
      const dead = new Promise<void>((resolve) => flow.onClose(resolve));
      socket.destroy();
      await dead;
      // Resolves (dropped, logged at debug): sendResponse would have awaited any connect it made.
      await rig.transport.sendResponse(createResponse(message as SipRequest, 486, 'Busy Here'), flow);
      expect(connections).toBe(0);
    } finally {
      peer.close();
    }
  });

  it('rfc3261: answers over a new connection to received and the sent-by port when the request connection died', async () => {
    rig = await startRig({ responseRouting: 'rfc3261' });
    const peer = net.createServer();
    const accepted = new Promise<net.Socket>((resolve) => peer.once('connection', resolve));
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const peerPort = (peer.address() as net.AddressInfo).port;
    try {
      const got = nextMessage(rig.transport);
      const socket = await tcpConnect(rig.tcpPort);
      socket.write(request({ via: `SIP/2.0/TCP 127.0.0.1:${peerPort};branch=z9hG4bKre` }));
      const { message, flow } = await got;
      const dead = new Promise<void>((resolve) => flow.onClose(resolve));
      socket.destroy();
      await dead;
      await rig.transport.sendResponse(createResponse(message as SipRequest, 486, 'Busy Here'), flow);
      expect(await readUntil(await accepted, /\r\n\r\n/)).toMatch(/^SIP\/2\.0 486 Busy Here\r\n/);
    } finally {
      peer.close();
    }
  });

  it('closes a connection idle longer than the configured timeout', async () => {
    rig = await startRig({ tcpIdleTimeoutMs: 200 });
    const got = nextMessage(rig.transport);
    const socket = await tcpConnect(rig.tcpPort);
    sockets.push(socket);
    socket.write(request({ via: 'SIP/2.0/TCP client.invalid:5060;branch=z9hG4bKidle' }));
    const { flow } = await got;
    const flowClosed = new Promise<void>((resolve) => flow.onClose(resolve));
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await flowClosed;
    expect(flow.alive).toBe(false);
  });
});
