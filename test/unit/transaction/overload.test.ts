// Overload control (sip/transaction/overload.ts): while the lag source reads above sip.overload.lagMs, new
// out-of-dialog INVITEs and REGISTERs are answered 503 + Retry-After statelessly (RFC 3261 §21.5.4) and
// never reach the TU; in-dialog requests, BYE, CANCEL and other methods still do. A fake lag source.
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import type { SipResponse } from '../../../gateway/sip/message/types.js';
import { createTransactionLayer, type TransactionLayer } from '../../../gateway/sip/transaction/index.js';
import { OverloadGate } from '../../../gateway/sip/transaction/overload.js';
import { FakeTransport, fakeFlow } from './fake-transport.js';
import { header, request } from './messages.js';

const udp = fakeFlow('udp');

function rig(lagMs: number, retryAfter = 7) {
  const lag = { now: 0, closed: false };
  const source = { lagMs: () => lag.now, close: () => void (lag.closed = true) };
  const transport = new FakeTransport();
  const layer = createTransactionLayer({ transport, logger: createLogger('silent'), overload: { lagMs, retryAfter, source } });
  const seen: string[] = [];
  layer.onRequest((req) => seen.push(req.method));
  return { lag, transport, layer, seen };
}

const answers = (t: FakeTransport) =>
  t.sent.map((s) => s.message as SipResponse).map((r) => `${r.status} ${header(r, 'Retry-After') ?? '-'}`);

describe('overload control on event-loop lag', () => {
  let layer: TransactionLayer | undefined;
  afterEach(() => layer?.close());

  it('refuses new INVITE and REGISTER with 503 + Retry-After while lagging; accepts them again after', () => {
    const r = rig(200);
    layer = r.layer;
    r.lag.now = 350;
    r.transport.inject(request({ method: 'INVITE', branch: 'z9hG4bK-i1' }), udp);
    r.transport.inject(request({ method: 'REGISTER', branch: 'z9hG4bK-r1' }), udp);
    expect(r.seen).toEqual([]);
    expect(answers(r.transport)).toEqual(['503 7', '503 7']);
    const refused = r.transport.sent[0]!.message as SipResponse;
    expect(header(refused, 'To')).toMatch(/;tag=/); // a stateless final response carries a To tag
    r.lag.now = 150; // at or below the threshold: accepted
    r.transport.inject(request({ method: 'INVITE', branch: 'z9hG4bK-i2' }), udp);
    r.transport.inject(request({ method: 'REGISTER', branch: 'z9hG4bK-r2' }), udp);
    expect(r.seen).toEqual(['INVITE', 'REGISTER']);
    expect(r.transport.sent).toHaveLength(2);
  });

  it('lets through what keeps or ends calls already up: in-dialog re-INVITE, BYE, CANCEL, OPTIONS', () => {
    const r = rig(200);
    layer = r.layer;
    r.lag.now = 5000;
    r.transport.inject(request({ method: 'INVITE', branch: 'z9hG4bK-re', toTag: 'dlg' }), udp);
    r.transport.inject(request({ method: 'BYE', branch: 'z9hG4bK-b', toTag: 'dlg' }), udp);
    r.transport.inject(request({ method: 'CANCEL', branch: 'z9hG4bK-c' }), udp);
    r.transport.inject(request({ method: 'OPTIONS', branch: 'z9hG4bK-o' }), udp);
    expect(r.seen).toEqual(['INVITE', 'BYE', 'CANCEL', 'OPTIONS']);
    expect(r.transport.sent).toEqual([]);
  });

  it('a retransmission of a request already accepted is absorbed by its transaction, not refused', () => {
    const r = rig(200);
    layer = r.layer;
    const invite = request({ method: 'INVITE', branch: 'z9hG4bK-x' });
    r.transport.inject(invite, udp);
    r.lag.now = 1000;
    r.transport.inject(invite, udp);
    expect(r.seen).toEqual(['INVITE']);
    expect(answers(r.transport)).toEqual([]);
  });

  it('lagMs 0 is off: no lag source is read or kept', () => {
    const r = rig(0);
    layer = r.layer;
    r.lag.now = 10_000;
    r.transport.inject(request({ method: 'INVITE', branch: 'z9hG4bK-z' }), udp);
    expect(r.seen).toEqual(['INVITE']);
  });

  it('closing the layer stops the lag source; the gate counts what it refused', () => {
    const r = rig(100);
    r.lag.now = 101;
    r.transport.inject(request({ method: 'REGISTER', branch: 'z9hG4bK-q' }), udp);
    r.layer.close();
    expect(r.lag.closed).toBe(true);
    const source = { lagMs: () => 300, close: () => {} };
    const gate = new OverloadGate({ lagMs: 100, retryAfter: 5, logger: createLogger('silent'), source });
    expect([gate.refuse(), gate.refuse(), gate.rejected]).toEqual([true, true, 2]);
  });
});
