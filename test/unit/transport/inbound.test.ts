import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { getFields, getTopVia } from '../../../gateway/sip/message/index.js';
import type { SipMessage, SipResponse } from '../../../gateway/sip/message/types.js';
import { BaseFlow } from '../../../gateway/sip/transport/flow.js';
import { encodeWithin, responseBudget } from '../../../gateway/sip/transport/budget.js';
import { receive, type InboundDeps } from '../../../gateway/sip/transport/inbound.js';
import type { TransportKind } from '../../../gateway/sip/transport/types.js';

class FakeFlow extends BaseFlow {
  constructor(kind: TransportKind) {
    super(`${kind}#test`, kind, { address: '127.0.0.1', port: 5060 }, { address: '192.0.2.7', port: 40000 }, kind !== 'udp');
  }
  get alive(): boolean {
    return true;
  }
  write(): Promise<void> {
    return Promise.resolve();
  }
}

function deps(respond: InboundDeps['respond'] = () => Promise.resolve()) {
  const delivered: SipMessage[] = [];
  const responses: SipResponse[] = [];
  const d: InboundDeps = {
    logger: createLogger('silent'),
    deliver: (m) => delivered.push(m),
    respond: (r, f) => {
      responses.push(r);
      return respond(r, f);
    },
    isOwnSentBy: (via) => via.port === undefined || via.port === 5060,
  };
  return { d, delivered, responses };
}

function text(lines: string[], body = ''): Buffer {
  return Buffer.from([...lines, `Content-Length: ${body.length}`, '', body].join('\r\n'));
}

const common = ['From: <sip:a@example.com>;tag=1', 'To: <sip:b@example.com>', 'Call-ID: c1', 'Max-Forwards: 70'];

describe('receive', () => {
  it('stamps only the top via-parm and keeps the others, even from a combined (compact) Via field', () => {
    const { d, delivered } = deps();
    const msg = text([
      'OPTIONS sip:b@example.com SIP/2.0',
      'v: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb',
      'Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKc',
      ...common,
      'CSeq: 1 OPTIONS',
    ]);
    receive(msg, new FakeFlow('udp'), d);
    expect(delivered).toHaveLength(1);
    const vias = getFields(delivered[0]!, 'Via').map((f) => f.value);
    expect(vias).toHaveLength(3);
    expect(vias[0]).toMatch(/^SIP\/2\.0\/UDP 10\.0\.0\.1:5060;/);
    expect(getTopVia(delivered[0]!)!.params).toMatchObject({ rport: '40000', received: '192.0.2.7', branch: 'z9hG4bKa' });
    expect(vias[1]).toBe('SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb');
    expect(vias[2]).toBe('SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKc');
  });

  it('delivers responses without touching their Via', () => {
    const { d, delivered } = deps();
    const via = 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKr';
    receive(text(['SIP/2.0 200 OK', `Via: ${via}`, ...common, 'CSeq: 1 OPTIONS']), new FakeFlow('udp'), d);
    expect(delivered).toHaveLength(1);
    expect(getFields(delivered[0]!, 'Via')[0]!.value).toBe(via);
  });

  it('answers a malformed request with its fault as reason and does not deliver it', () => {
    const { d, delivered, responses } = deps();
    const bad = text(['INVITE sip:b@example.com SIP/2.0', 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKm', ...common, 'CSeq: x INVITE']);
    // Over TCP (a proven source): the fault-naming reason phrase whatever its size.
    receive(bad, new FakeFlow('tcp'), d);
    expect(delivered).toEqual([]);
    expect(responses).toHaveLength(1);
    expect(responses[0]!.status).toBe(400);
    expect(responses[0]!.reason).toMatch(/CSeq/);
    // The 400 is addressed like any response: its Via carries received (RFC 3261 §18.2.1).
    expect(getTopVia(responses[0]!)!.params.received).toBe('192.0.2.7');
  });

  it('over UDP the 400 is bounded by the datagram: the plain reason phrase when the fault-naming one does not fit', () => {
    const { d, responses } = deps();
    const bad = text(['INVITE sip:b@example.com SIP/2.0', 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKm', ...common, 'CSeq: x INVITE']);
    receive(bad, new FakeFlow('udp'), d);
    const res = responses[0]!;
    expect(res.status).toBe(400);
    expect(responseBudget(res)).toBe(bad.length);
    // What the transport sends (long or compact names), or nothing: never more bytes than came in.
    const out = encodeWithin(res, responseBudget(res));
    expect(out === undefined || out.length <= bad.length).toBe(true);
  });

  it('uses the status the parser chose (505 for another SIP version)', () => {
    const { d, responses } = deps();
    const bad = text(['OPTIONS sip:b@example.com SIP/3.0', 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKv', ...common, 'CSeq: 1 OPTIONS']);
    receive(bad, new FakeFlow('udp'), d);
    expect(responses[0]?.status).toBe(505);
  });

  it('never answers a malformed ACK or response', () => {
    const { d, delivered, responses } = deps();
    receive(text(['ACK sip:b@example.com SIP/2.0', 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKk', ...common, 'CSeq: x ACK']), new FakeFlow('udp'), d);
    receive(text(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKk', ...common, 'CSeq: x ACK']), new FakeFlow('udp'), d);
    receive(Buffer.from('garbage\r\n\r\n'), new FakeFlow('udp'), d);
    expect(delivered).toEqual([]);
    expect(responses).toEqual([]);
  });

  it('requires Content-Length on TCP but not on UDP or WebSocket', () => {
    const lines = ['OPTIONS sip:b@example.com SIP/2.0', 'Via: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKl', ...common, 'CSeq: 1 OPTIONS', '', ''];
    const noLength = Buffer.from(lines.join('\r\n'));
    for (const kind of ['udp', 'ws'] as const) {
      const { d, delivered } = deps();
      receive(noLength, new FakeFlow(kind), d);
      expect(delivered).toHaveLength(1);
    }
    const { d, delivered, responses } = deps();
    receive(noLength, new FakeFlow('tcp'), d);
    expect(delivered).toEqual([]);
    expect(responses[0]?.reason).toMatch(/Content-Length/);
  });

  it('a failing answer is logged, never an unhandled rejection', async () => {
    const failing = vi.fn(() => Promise.reject(new Error('socket gone')));
    const { d } = deps(failing);
    const bad = text(['OPTIONS sip:b@example.com SIP/2.0', 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKf', ...common, 'CSeq: x OPTIONS']);
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      receive(bad, new FakeFlow('udp'), d);
      await new Promise((resolve) => setImmediate(resolve));
      expect(failing).toHaveBeenCalledOnce();
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
