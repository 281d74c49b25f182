// The call layer's view of quality (gateway/call/quality.ts): the engine's legs matched to caller and callee
// by the tag each faces, live (async) and for the call record (sync), and nothing when unknown.
import { describe, expect, it } from 'vitest';
import type { Call } from '../../../gateway/call/call.js';
import { callQuality, recordLegQuality, recordQualityNow } from '../../../gateway/call/quality.js';
import type { CallQuality, LegQuality } from '../../../gateway/media/quality.js';
import type { MediaEngine } from '../../../gateway/media/types.js';

function leg(tag: string, packets: number, lost: number, mos: number | null): LegQuality {
  const dir = { packets, expected: packets + lost, lost, lossPercent: (100 * lost) / (packets + lost), intervalLossPercent: null, jitterMs: 4, mos };
  return { tag, profile: 'rtp', in: dir, out: { ...dir, lost: null }, rttMs: 12, rtcpIn: 2, rtcpOut: 3, rtcpErrors: 0 };
}

const figures: CallQuality = { source: 'embedded', legs: [leg('callee-tag', 95, 5, 3.9), leg('caller-tag', 100, 0, 4.4)] };
const call = { session: { media: { key: 'k1' }, caller: { tag: 'caller-tag' }, callee: { tag: 'callee-tag' } } } as unknown as Call;
const engine = {
  quality: async (key: string) => (key === 'k1' ? figures : undefined),
  qualityNow: (key: string) => (key === 'k1' ? figures : undefined),
} as unknown as MediaEngine;

describe('call quality per side', () => {
  it('matches the legs to caller and callee by tag', async () => {
    const q = await callQuality(call, engine);
    expect(q?.caller?.tag).toBe('caller-tag');
    expect(q?.callee?.in.lost).toBe(5);
    expect(q?.source).toBe('embedded');
  });

  it('for the call record: what the gateway received from each party, the round trip, that audio\'s MOS', () => {
    expect(recordQualityNow(call, engine)).toEqual({
      caller: { packets: 100, lost: 0, jitterMs: 4, rttMs: 12, mos: 4.4 },
      callee: { packets: 95, lost: 5, jitterMs: 4, rttMs: 12, mos: 3.9 },
    });
    expect(recordLegQuality(undefined)).toEqual({ packets: null, lost: null, jitterMs: null, rttMs: null, mos: null });
  });

  it('nothing before an answer, with an engine that cannot tell, or a session the engine forgot', async () => {
    expect(await callQuality({ session: undefined } as unknown as Call, engine)).toBeUndefined();
    expect(await callQuality(call, {} as MediaEngine)).toBeUndefined();
    expect(recordQualityNow(call, {} as MediaEngine)).toBeUndefined();
    const forgotten = { session: { media: { key: 'gone' }, caller: { tag: 'a' }, callee: { tag: 'b' } } } as unknown as Call;
    expect(recordQualityNow(forgotten, engine)).toBeUndefined();
  });
});
