// Listening points bound to the wildcard that advertise another address (ListenSpec.advertise): the
// transport reports the advertised address, not 0.0.0.0, as localAddress() and as every flow's sentBy,
// for UDP, for accepted TCP connections and for WebSocket flows. Inside `unshare -n` the whole of
// 127.0.0.0/8 is on lo, so 127.0.0.9 stands for a public address that is not the bound one.
import dgram from 'node:dgram';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { parseMessage } from '../../../gateway/sip/message/index.js';
import { createTransport } from '../../../gateway/sip/transport/index.js';
import type { SipTransport } from '../../../gateway/sip/transport/types.js';
import { freePort, freeSipPort } from '../../support/ports.js';
import { nextMessage, request, tcpConnect, udpClient } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function wildcardTransport(port: number, server: http.Server): Promise<SipTransport> {
  const transport = await createTransport({
    listen: [
      { transport: 'udp', address: '0.0.0.0', port, advertise: { address: '127.0.0.9' } },
      { transport: 'tcp', address: '0.0.0.0', port, advertise: { address: '127.0.0.9', port: 15060 } },
    ],
    ws: { server, path: '/sip', advertise: { address: '127.0.0.9', port: 443 } },
    logger: createLogger('silent'),
  });
  cleanups.push(() => transport.close());
  return transport;
}

async function httpServer(): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

describe('advertised listening points', { timeout: 5000 }, () => {
  it('localAddress() is the advertised address (bound port unless one is advertised)', async () => {
    const port = await freeSipPort();
    const transport = await wildcardTransport(port, await httpServer());
    expect(transport.localAddress('udp')).toEqual({ address: '127.0.0.9', port });
    expect(transport.localAddress('tcp')).toEqual({ address: '127.0.0.9', port: 15060 });
    expect(transport.localAddress('ws')).toEqual({ address: '127.0.0.9', port: 443 });
  });

  it('a UDP flow into a 0.0.0.0 socket: local 0.0.0.0, sentBy advertised; a request sent on it says so', async () => {
    const port = await freeSipPort();
    const transport = await wildcardTransport(port, await httpServer());
    const client = await udpClient();
    cleanups.push(() => void client.socket.close());
    const got = nextMessage(transport);
    client.socket.send(request({ via: `SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKadv1` }), port, '127.0.0.1');
    const { flow } = await got;
    expect(flow.local).toEqual({ address: '0.0.0.0', port });
    expect(flow.sentBy).toEqual({ address: '127.0.0.9', port });
  });

  it('an accepted TCP connection takes the advertised address and port of the point that accepted it', async () => {
    const port = await freeSipPort();
    const transport = await wildcardTransport(port, await httpServer());
    const socket = await tcpConnect(port);
    cleanups.push(() => void socket.destroy());
    const got = nextMessage(transport);
    socket.write(request({ via: 'SIP/2.0/TCP client.invalid:5060;branch=z9hG4bKadv2' }));
    const { flow } = await got;
    expect(flow.local).toEqual({ address: '127.0.0.1', port });
    expect(flow.sentBy).toEqual({ address: '127.0.0.9', port: 15060 });
  });

  it('with an IPv4 and an IPv6 socket, the sent-by toward a target is that of the socket send() uses', async () => {
    const port = await freePort('udp');
    const transport = await createTransport({
      listen: [
        // (0.0.0.0 and :: on one port would collide: Linux binds :: dual-stack.)
        { transport: 'udp', address: '127.0.0.1', port, advertise: { address: '127.0.0.9' } },
        { transport: 'udp', address: '::1', port, advertise: { address: '::1', port: 15062 } },
      ],
      logger: createLogger('silent'),
    });
    cleanups.push(() => transport.close());
    expect(transport.localAddress('udp', '::1')).toEqual({ address: '::1', port: 15062 });
    expect(transport.localAddress('udp', '127.0.0.1')).toEqual({ address: '127.0.0.9', port });
    expect(transport.localAddress('udp')).toEqual({ address: '127.0.0.9', port });
    // The IPv6 socket is the one that sends toward ::1: its flow says so.
    const client = dgram.createSocket('udp6');
    await new Promise<void>((resolve) => client.bind(0, '::1', resolve));
    cleanups.push(() => void client.close());
    const got = new Promise<string>((resolve) => client.once('message', (data) => resolve(data.toString())));
    const flow = await transport.send(parseMessage(Buffer.from(request({ via: 'SIP/2.0/UDP [::1]:15062;branch=z9hG4bKv6' }))), {
      transport: 'udp',
      address: '::1',
      port: client.address().port,
    });
    expect(flow.sentBy).toEqual({ address: '::1', port: 15062 });
    expect(await got).toMatch(/^OPTIONS /);
  });

  it('a specific bind without advertise stays itself', async () => {
    const port = await freePort('udp');
    const transport = await createTransport({ listen: [{ transport: 'udp', address: '127.0.0.1', port }], logger: createLogger('silent') });
    cleanups.push(() => transport.close());
    expect(transport.localAddress('udp')).toEqual({ address: '127.0.0.1', port });
  });
});
