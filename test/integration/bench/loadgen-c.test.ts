// The C load generator of the SRTP⇄RTP bench (bench/loadgen-c) against both engines it is used with: the
// embedded one in this process (the generator is the DTLS client: the engine answers setup:passive) and
// rtpengine (the generator is the DTLS server: rtpengine answers setup:active). Every packet sent in the
// measured phase must arrive at the other side, through STUN, DTLS-SRTP and the relay. The C build runs
// first; it fails without gcc/libssl-dev (bash .ci/install-peers installs them), and so does this test.
import { afterEach, describe, expect, it } from 'vitest';
import { CLoadGenerator } from '../../../bench/loadgen-c/index.js';
import { startEngine } from '../../../bench/srtp-relay.js';
import type { BenchEngine } from '../../../bench/engines.js';
import { createLogger } from '../../../gateway/log.js';
import { createEmbeddedMediaEngine } from '../../../gateway/media/index.js';

const CALLS = 5;
const MEASURE_MS = 2000;
/** 5 calls × 50 pkt/s × 2 s each way, less what a late pacer skips on a loaded machine. */
const AT_LEAST = 400;

let stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.reverse()) await stop();
  stops = [];
});

type Engine = Pick<BenchEngine, 'offer' | 'answer'>;

async function runCalls(engine: Engine): Promise<Awaited<ReturnType<CLoadGenerator['run']>>> {
  const gen = new CLoadGenerator();
  stops.push(() => gen.stop());
  await gen.ready();
  for (let i = 0; i < CALLS; i++) {
    const callId = `cgen-${i}`;
    const toTrunk = await engine.offer(callId, 'browser', await gen.offer(i));
    const toBrowser = await engine.answer(callId, 'browser', 'trunk', await gen.answer(i, toTrunk));
    await gen.connect(i, toBrowser);
  }
  return gen.run(300, MEASURE_MS);
}

function expectEveryPacketBothWays({ browser, trunk }: Awaited<ReturnType<typeof runCalls>>): void {
  expect(browser.sent).toBeGreaterThanOrEqual(AT_LEAST);
  expect(trunk.sent).toBeGreaterThanOrEqual(AT_LEAST);
  expect(trunk.received).toBe(browser.sent); // SRTP in, RTP out: decrypted by the engine, counted by stamp
  expect(browser.received).toBe(trunk.sent); // RTP in, SRTP out: the generator's own SRTP verified it
  expect(browser.dropped).toBe(0);
  expect(trunk.dropped).toBe(0);
  const timed = (counts: Uint32Array): number => counts.reduce((a, b) => a + b, 0);
  expect(timed(browser.latency.counts)).toBe(browser.received);
  expect(timed(trunk.latency.counts)).toBe(trunk.received);
}

describe('bench/loadgen-c', () => {
  it('relays 5 browser calls both ways through the embedded engine (generator = DTLS client)', async () => {
    const engine = await createEmbeddedMediaEngine({
      bindAddress: '127.0.0.1',
      portRange: { from: 41000, to: 41099 },
      logger: createLogger('silent'),
      admission: { enabled: false }, // this tests the generator, not the engine's admission control
    });
    stops.push(() => engine.close());
    const result = await runCalls({
      offer: async (callId, fromTag, sdp) => (await engine.offer({ callId, fromTag, sdp, toProfile: 'rtp' })).sdp,
      answer: async (callId, fromTag, toTag, sdp) => (await engine.answer({ callId, fromTag, toTag, sdp })).sdp,
    });
    expectEveryPacketBothWays(result);
  });

  it('relays 5 browser calls both ways through rtpengine (generator = DTLS server)', async () => {
    const engine = await startEngine('rtpengine');
    stops.push(() => engine.stop());
    expectEveryPacketBothWays(await runCalls(engine));
  });
});
