import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResponse, getTopVia } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { header, nextMessage, request, startRig, udpClient, type Rig } from './helpers.js';

describe('UDP transport', { timeout: 5000 }, () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await startRig();
  });
  afterEach(async () => {
    await rig.close();
  });

  it('reports the actually bound port', () => {
    expect(rig.udpPort).toBeGreaterThan(0);
    expect(rig.transport.localAddress('udp')).toEqual({ address: '127.0.0.1', port: rig.udpPort });
    expect(rig.transport.localAddress('tls')).toBeUndefined();
  });

  it('stamps received/rport on an inbound request and answers to received:rport', async () => {
    const client = await udpClient();
    try {
      const got = nextMessage(rig.transport);
      // sent-by names a port nobody listens on: only rport can bring the answer back.
      const text = request({ via: 'SIP/2.0/UDP 10.9.9.9:5999;rport;branch=z9hG4bKudp1' });
      client.socket.send(text, rig.udpPort, '127.0.0.1');
      const { message, flow } = await got;
      expect(message.kind).toBe('request');
      const via = getTopVia(message)!;
      expect(via.params.received).toBe('127.0.0.1');
      expect(via.params.rport).toBe(String(client.port));
      expect(flow).toMatchObject({ transport: 'udp', reliable: false, alive: true });
      expect(flow.remote).toEqual({ address: '127.0.0.1', port: client.port });

      await rig.transport.sendResponse(createResponse(message as SipRequest, 200, 'OK'), flow);
      const answer = await client.next();
      expect(answer).toMatch(/^SIP\/2\.0 200 OK\r\n/);
      expect(header(answer, 'Via')).toContain(`rport=${client.port}`);
      expect(header(answer, 'Via')).toContain('received=127.0.0.1');
    } finally {
      client.socket.close();
    }
  });

  it('reuses one flow per remote address', async () => {
    const client = await udpClient();
    try {
      const first = nextMessage(rig.transport);
      client.socket.send(request({ via: `SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKa` }), rig.udpPort, '127.0.0.1');
      const a = await first;
      const second = nextMessage(rig.transport);
      client.socket.send(request({ via: `SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKb` }), rig.udpPort, '127.0.0.1');
      const b = await second;
      expect(b.flow).toBe(a.flow);
      // sent-by equals the source and no rport: nothing is added.
      expect(getTopVia(a.message)!.params).not.toHaveProperty('received');
    } finally {
      client.socket.close();
    }
  });

  it('answers a malformed request 400 with a reason naming the fault, never delivering it', async () => {
    const client = await udpClient();
    const delivered: unknown[] = [];
    rig.transport.onMessage((m) => delivered.push(m));
    try {
      // sent-by is unreachable: the 400 must follow received/rport like any response (§18.2.2, RFC 3581).
      // A phone-sized request: over UDP the 400 (its fault-naming reason included) must fit in it.
      const extra = ['User-Agent: desk phone 1.0', 'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY'];
      const bad = request({ via: 'SIP/2.0/UDP 10.9.9.9:5999;rport;branch=z9hG4bKbad', cseq: 'abc OPTIONS', extra });
      client.socket.send(bad, rig.udpPort, '127.0.0.1');
      const answer = await client.next();
      expect(answer).toMatch(/^SIP\/2\.0 400 [^\r\n]*CSeq/i);
      expect(header(answer, 'Call-ID')).toBe('call-1@example.com');
      expect(delivered).toEqual([]);
    } finally {
      client.socket.close();
    }
  });

  it('a throwing handler is contained: later handlers and later messages still work', async () => {
    const client = await udpClient();
    try {
      rig.transport.onMessage(() => {
        throw new Error('handler bug');
      });
      const got = nextMessage(rig.transport);
      client.socket.send(request({ via: `SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKt` }), rig.udpPort, '127.0.0.1');
      expect((await got).message.kind).toBe('request');
    } finally {
      client.socket.close();
    }
  });

  it('sends a request to a UDP target from the listening socket', async () => {
    const client = await udpClient();
    try {
      const req: SipRequest = {
        kind: 'request',
        method: 'OPTIONS',
        uri: `sip:peer@127.0.0.1:${client.port}`,
        version: 'SIP/2.0',
        headers: [
          { name: 'Via', value: `SIP/2.0/UDP 127.0.0.1:${rig.udpPort};branch=z9hG4bKout;rport` },
          { name: 'Max-Forwards', value: '70' },
          { name: 'From', value: '<sip:gw@127.0.0.1>;tag=g1' },
          { name: 'To', value: '<sip:peer@127.0.0.1>' },
          { name: 'Call-ID', value: 'out-1' },
          { name: 'CSeq', value: '1 OPTIONS' },
        ],
        body: Buffer.alloc(0),
      };
      const flow = await rig.transport.send(req, { transport: 'udp', address: '127.0.0.1', port: client.port });
      expect(flow.local.port).toBe(rig.udpPort);
      expect(await client.next()).toMatch(/^OPTIONS sip:peer@127\.0\.0\.1:\d+ SIP\/2\.0\r\n/);
    } finally {
      client.socket.close();
    }
  });
});
