// The embedded engine under admission control, its load source injected (a fake probe, fake interval
// timers): while it refuses, an offer or an echo for a NEW call key fails with MediaError 'overloaded'
// and opens no socket; a re-offer of a call it holds goes on; load() reports the figures; once a quiet
// window passed new calls are taken again. Plain RTP legs on loopback (ports only, no peer).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import type { LoadProbe, WindowLoad } from '../../../gateway/media/admission.js';
import { createEmbeddedMediaEngine, MediaError, type EmbeddedMediaEngine } from '../../../gateway/media/index.js';

function sdp(port: number, version = 1, direction = 'sendrecv'): string {
  return ['v=0', `o=x 1 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', `a=${direction}`, ''].join('\r\n');
}

const BUSY: WindowLoad = { utilization: 0.99, delayP99Ms: 80 };
const QUIET: WindowLoad = { utilization: 0.1, delayP99Ms: 1 };

describe('embedded engine: admission control', () => {
  let engine: EmbeddedMediaEngine;
  let load: WindowLoad;
  const probe: LoadProbe = { sample: () => load, close: () => undefined };

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    load = QUIET;
    const from = 30000 + 2 * Math.floor(Math.random() * 10000);
    engine = await createEmbeddedMediaEngine({
      bindAddress: '127.0.0.1',
      portRange: { from, to: from + 19 },
      logger: createLogger('silent'),
      admission: { probe, windowMs: 500, maxUtilization: 0.9, maxDelayMs: 50 },
    });
  });

  afterEach(async () => {
    await engine.close();
    vi.useRealTimers();
  });

  async function establish(callId: string): Promise<void> {
    await engine.offer({ callId, fromTag: 'a', sdp: sdp(40000), toProfile: 'rtp' });
    await engine.answer({ callId, fromTag: 'a', toTag: 'b', sdp: sdp(40002) });
  }

  it('refuses new offers and echoes while busy, opening nothing; re-offers of a call up go on; admits again after a quiet window', async () => {
    await establish('up');
    const socketsUp = engine.openSockets().udp;
    expect(engine.load()).toEqual([{ worker: 0, calls: 1, utilization: 0, delayP99Ms: 0, admitting: true, refused: 0 }]);

    load = BUSY;
    vi.advanceTimersByTime(1000); // two busy windows
    expect(engine.load()[0]).toMatchObject({ worker: 0, calls: 1, utilization: 0.99, delayP99Ms: 80, admitting: false });

    const offer = await engine.offer({ callId: 'new', fromTag: 'c', sdp: sdp(40004), toProfile: 'rtp' }).catch((e: unknown) => e);
    expect(offer).toBeInstanceOf(MediaError);
    expect((offer as MediaError).code).toBe('overloaded');
    const echo = await engine.echo({ callId: 'echo', fromTag: 'e', sdp: sdp(40006) }).catch((e: unknown) => e);
    expect((echo as MediaError).code).toBe('overloaded');
    expect(engine.openSockets().udp).toBe(socketsUp);
    expect(engine.stats('new')).toBeUndefined();

    // hold from the caller (a re-offer) on the call already up: taken, and its answer too
    const reoffer = await engine.offer({ callId: 'up', fromTag: 'a', sdp: sdp(40000, 2, 'sendonly'), toProfile: 'rtp' });
    expect(reoffer.sdp).toContain('a=sendonly');
    await engine.answer({ callId: 'up', fromTag: 'a', toTag: 'b', sdp: sdp(40002, 2, 'recvonly') });
    expect(engine.load()[0]).toMatchObject({ calls: 1, refused: 2 });

    load = QUIET;
    vi.advanceTimersByTime(500);
    expect(engine.load()[0]!.admitting).toBe(true);
    await establish('later');
    expect(engine.load()[0]).toMatchObject({ calls: 2, refused: 2 });
  });

  it('admission disabled: the load is reported, new calls are taken', async () => {
    await engine.close();
    const from = 30000 + 2 * Math.floor(Math.random() * 10000);
    engine = await createEmbeddedMediaEngine({ bindAddress: '127.0.0.1', portRange: { from, to: from + 9 }, logger: createLogger('silent'), admission: { probe, enabled: false } });
    load = BUSY;
    vi.advanceTimersByTime(1500);
    await establish('taken');
    expect(engine.load()).toEqual([{ worker: 0, calls: 1, utilization: 0.99, delayP99Ms: 80, admitting: true, refused: 0 }]);
  });
});
