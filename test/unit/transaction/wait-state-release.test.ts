// A transaction waiting out its last timer (Timer K, D; Timer L after the ACK; Timer I) keeps no TU state:
// the handlers (whose closures hold a call) are collectable while the transaction still sits in the layer's
// table. Checked with WeakRefs and a forced garbage collection.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createTransactionLayer, type ServerTransaction, type TransactionLayer } from '../../../gateway/sip/transaction/index.js';
import { FakeTransport, fakeFlow } from './fake-transport.js';
import { request, response } from './messages.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  return ref.deref() === undefined;
}

/** Handlers whose closures hold a 1 MB "call"; only a WeakRef to the call leaves this function. */
function heavyHandlers(): { handlers: { onResponse: () => void; onTimeout: () => void; onTransportError: () => void }; ref: WeakRef<object> } {
  const call = { state: new Uint8Array(1 << 20) };
  const handlers = { onResponse: () => void call.state, onTimeout: () => void call.state, onTransportError: () => void call.state };
  return { handlers, ref: new WeakRef(call) };
}

describe('wait states keep no TU state', () => {
  let layer: TransactionLayer | undefined;
  afterEach(() => layer?.close());

  for (const method of ['OPTIONS', 'INVITE'] as const) {
    it(`${method} client transaction in Completed (Timer ${method === 'INVITE' ? 'D' : 'K'}) lets its TU handlers go`, async () => {
      const transport = new FakeTransport();
      layer = createTransactionLayer({ transport, logger: createLogger('silent') });
      const req = request({ method, branch: `z9hG4bK-w-${method}` });
      let tx: unknown;
      const ref = (() => {
        const { handlers, ref } = heavyHandlers();
        tx = layer.sendRequest(req, fakeFlow('udp'), handlers);
        return ref;
      })();
      transport.inject(response(req, method === 'INVITE' ? 486 : 200, 'to-1'), fakeFlow('udp'));
      expect((tx as { state: string }).state).toBe('completed');
      expect(await collected(ref)).toBe(true);
      expect((tx as { state: string }).state).toBe('completed'); // still waiting out its timer
    });
  }

  it('INVITE server transaction: once the 2xx is ACKed, its ACK-timeout listeners are let go (Timer L)', async () => {
    const transport = new FakeTransport();
    layer = createTransactionLayer({ transport, logger: createLogger('silent') });
    let server: ServerTransaction | undefined;
    layer.onRequest((_req, tx) => (server = tx));
    const invite = request({ method: 'INVITE', branch: 'z9hG4bK-w-srv' });
    transport.inject(invite, fakeFlow('udp'));
    const ref = (() => {
      const call = { state: new Uint8Array(1 << 20) };
      server!.onAckTimeout(() => void call.state);
      return new WeakRef(call);
    })();
    server!.respond(response(invite, 200, 'to-2'));
    expect(server!.state).toBe('accepted');
    transport.inject(request({ method: 'ACK', branch: 'z9hG4bK-w-ack', toTag: 'to-2' }), fakeFlow('udp'));
    expect(await collected(ref)).toBe(true);
    expect(server!.state).toBe('accepted');
  });
});
