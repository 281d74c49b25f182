// drain(): a graceful stop waits for the final responses to the requests it just sent (the BYEs and
// CANCELs of the calls it ends), bounded by a timeout, before the layer and the transport close.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeFlow } from './fake-transport.js';
import { request, response } from './messages.js';
import { harness, recordingHandlers, type Harness } from './setup.js';

describe('transaction layer drain()', () => {
  let h: Harness;
  let settled: string[];
  beforeEach(() => {
    h = harness();
    settled = [];
  });
  afterEach(() => {
    h.layer.close();
    vi.useRealTimers();
  });

  const track = (label: string, p: Promise<void>): Promise<void> => p.then(() => void settled.push(`${label}@${Date.now()}`));

  it('resolves at once when nothing awaits a final response', async () => {
    const drained = track('drained', h.layer.drain(4_000));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual(['drained@0']);
    await drained;
  });

  it('waits for the final response to a BYE, not for a provisional one', async () => {
    const bye = request({ method: 'BYE', branch: 'z9hG4bK-bye' });
    const tu = recordingHandlers();
    h.layer.sendRequest(bye, fakeFlow('udp'), tu);
    const drained = track('drained', h.layer.drain(4_000));
    await vi.advanceTimersByTimeAsync(300);
    h.transport.inject(response(bye, 100), fakeFlow());
    await vi.advanceTimersByTimeAsync(300);
    expect(settled).toEqual([]);
    h.transport.inject(response(bye, 200, 'callee'), fakeFlow());
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual(['drained@600']);
    expect(tu.responses.map((r) => r.status)).toEqual([100, 200]); // the TU still sees every response
    await drained;
  });

  it('counts a request sent from a continuation already queued when drain() is called', async () => {
    const bye = request({ method: 'BYE', branch: 'z9hG4bK-later' });
    void Promise.resolve().then(() => h.layer.sendRequest(bye, fakeFlow('udp'), recordingHandlers()));
    const drained = track('drained', h.layer.drain(4_000));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(settled).toEqual([]);
    h.transport.inject(response(bye, 200, 'callee'), fakeFlow());
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual(['drained@1000']);
    await drained;
  });

  it('gives up after the timeout when the far end never answers (Timer F is 32 s)', async () => {
    h.layer.sendRequest(request({ method: 'BYE', branch: 'z9hG4bK-silent' }), fakeFlow('udp'), recordingHandlers());
    const drained = track('drained', h.layer.drain(4_000));
    await vi.advanceTimersByTimeAsync(3_999);
    expect(settled).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toEqual(['drained@4000']);
    await drained;
  });

  it('waits for every pending transaction: a CANCELled INVITE ends with its 487', async () => {
    const invite = request({ method: 'INVITE', branch: 'z9hG4bK-inv' });
    const cancel = request({ method: 'CANCEL', branch: 'z9hG4bK-inv' });
    h.layer.sendRequest(invite, fakeFlow('udp'), recordingHandlers());
    h.transport.inject(response(invite, 180, 'callee'), fakeFlow());
    h.layer.sendRequest(cancel, fakeFlow('udp'), recordingHandlers());
    const drained = track('drained', h.layer.drain(4_000));
    await vi.advanceTimersByTimeAsync(100);
    h.transport.inject(response(cancel, 200, 'callee'), fakeFlow());
    await vi.advanceTimersByTimeAsync(100);
    expect(settled).toEqual([]); // the INVITE still awaits its final response
    h.transport.inject(response(invite, 487, 'callee'), fakeFlow());
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual(['drained@200']);
    await drained;
  });

  it('a transport error settles the wait like a final response', async () => {
    h.transport.failWith = 'connection refused';
    h.layer.sendRequest(request({ method: 'BYE', branch: 'z9hG4bK-tcp' }), fakeFlow('tcp'), recordingHandlers());
    const drained = track('drained', h.layer.drain(4_000));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual(['drained@0']);
    await drained;
  });
});
