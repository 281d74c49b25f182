import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { getTopVia } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { TransportError } from '../../../gateway/sip/transport/types.js';
import { nextMessage, request, startRig, type Rig } from './helpers.js';

function open(url: string, protocols: string[], options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function nextText(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())));
}

const bye = (port: number): SipRequest => ({
  kind: 'request',
  method: 'BYE',
  uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws',
  version: 'SIP/2.0',
  headers: [
    { name: 'Via', value: `SIP/2.0/WS 127.0.0.1:${port};branch=z9hG4bKbye` },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: '<sip:gw@127.0.0.1>;tag=g1' },
    { name: 'To', value: '<sip:alice@example.com>;tag=a1' },
    { name: 'Call-ID', value: 'ws-call' },
    { name: 'CSeq', value: '2 BYE' },
  ],
  body: Buffer.alloc(0),
});

describe('WebSocket transport (RFC 7118)', { timeout: 5000 }, () => {
  let rig: Rig;
  const clients: WebSocket[] = [];
  beforeEach(async () => {
    rig = await startRig({ wsPingIntervalMs: 100 });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await rig.close();
  });
  const url = (): string => `ws://127.0.0.1:${rig.httpPort}/sip`;

  it('accepts an upgrade offering subprotocol sip and answers with it', async () => {
    const ws = await open(url(), ['sip']);
    clients.push(ws);
    expect(ws.protocol).toBe('sip');
    expect(rig.transport.localAddress('ws')).toEqual({ address: '127.0.0.1', port: rig.httpPort });
    expect(rig.transport.localAddress('wss')).toBeUndefined();
  });

  it('refuses an upgrade without subprotocol sip with HTTP 400', async () => {
    await expect(open(url(), [])).rejects.toThrow('HTTP 400');
    await expect(open(url(), ['chat'])).rejects.toThrow('HTTP 400');
  });

  it('refuses an upgrade on another path', async () => {
    await expect(open(`ws://127.0.0.1:${rig.httpPort}/other`, ['sip'])).rejects.toThrow('HTTP 404');
  });

  it('delivers a WS message with received set, and sends a request back over the same flow', async () => {
    const ws = await open(url(), ['sip']);
    clients.push(ws);
    const got = nextMessage(rig.transport);
    ws.send(request({ method: 'REGISTER', via: 'SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKreg' }));
    const { message, flow } = await got;
    expect(message).toMatchObject({ kind: 'request', method: 'REGISTER' });
    expect(getTopVia(message)!.params.received).toBe('127.0.0.1');
    expect(flow).toMatchObject({ transport: 'ws', reliable: true, alive: true });

    const inbound = nextText(ws);
    const used = await rig.transport.send(bye(rig.httpPort), flow);
    expect(used).toBe(flow);
    expect(await inbound).toMatch(/^BYE sip:alice@df7jal23ls0d\.invalid;transport=ws SIP\/2\.0\r\n/);
  });

  it('a closed WS flow is dead: sending on it rejects with TransportError', async () => {
    const ws = await open(url(), ['sip']);
    const got = nextMessage(rig.transport);
    ws.send(request({ via: 'SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKo' }));
    const { flow } = await got;
    const closed = new Promise<void>((resolve) => flow.onClose(resolve));
    ws.close();
    await closed;
    expect(flow.alive).toBe(false);
    await expect(rig.transport.send(bye(rig.httpPort), flow)).rejects.toBeInstanceOf(TransportError);
  });

  it('terminates a socket that stops answering pings', async () => {
    const ws = await open(url(), ['sip'], { autoPong: false });
    clients.push(ws);
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    // 1006: closed without a close frame, i.e. terminated.
    expect(code).toBe(1006);
  });

  it('keeps a socket that answers pings', async () => {
    const ws = await open(url(), ['sip']);
    clients.push(ws);
    let pings = 0;
    await new Promise<void>((resolve) =>
      ws.on('ping', () => {
        pings += 1;
        if (pings === 3) resolve();
      }),
    );
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('WS and TLS targets cannot be dialled', async () => {
    await expect(rig.transport.send(bye(rig.httpPort), { transport: 'tls', address: '127.0.0.1', port: 1 })).rejects.toThrow(
      'TLS not configured',
    );
    await expect(rig.transport.send(bye(rig.httpPort), { transport: 'wss', address: '127.0.0.1', port: 1 })).rejects.toThrow(
      /cannot open a WebSocket/,
    );
    await expect(rig.transport.send(bye(rig.httpPort), { transport: 'ws', address: '127.0.0.1', port: 1 })).rejects.toBeInstanceOf(
      TransportError,
    );
  });
});
