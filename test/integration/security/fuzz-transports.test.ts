// Issue 8: a seeded, bounded fuzz of the gateway's SIP transports — 10,000 mutated messages over each of
// UDP, TCP (random framing splits) and WebSocket (text and binary frames) against the real gateway process
// (fuzz-rig.ts), from valid seeds and the RFC 4475 / RFC 5118 torture messages (fuzz-mutate.ts). Asserted:
// 0 crashes (the process runs and answers a final OPTIONS on each transport), 0 uncaught exceptions or
// unhandled rejections, 0 log lines at error level, descriptors back to the baseline (± 3) once the fuzz
// connections closed, heap after GC within 16 MB of the baseline. A longer run: bench/fuzz.ts.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/security/fuzz-transports.test.ts'
// FUZZ_SEED=n reproduces a run (default 8).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, freeSipPort } from '../../support/ports.js';
import { rng } from '../../support/rng.js';
import { stopAllProcesses } from '../../support/process.js';
import { tortureSeeds, validSeeds } from './fuzz-mutate.js';
import { driveTcp, driveUdp, driveWs, finalOptions, FROM, GATEWAY_IP, sleep, startFuzzedGateway, type FuzzedGateway, type Probe } from './fuzz-rig.js';

const MESSAGES = 10_000;
const SEED = Number(process.env.FUZZ_SEED ?? 8);
/** Heap after GC may grow this much over the run (caches that are bounded by design: UDP flows, nonce
 *  counts, the log's warn-once maps …); a leak per message would be far beyond it (10,000 × ≥ 1 KB). */
const HEAP_BOUND = 16 * 1024 * 1024;
const FD_TOLERANCE = 3;

let gw: FuzzedGateway;
let baseline: Probe;
const torture = tortureSeeds();

beforeAll(async () => {
  gw = await startFuzzedGateway(await freeSipPort(), await freePort('tcp'));
  // Warm-up: every path the fuzz takes once (module loading, JIT, first allocations), then the baseline.
  for (const t of ['udp', 'tcp', 'ws'] as const) expect(await finalOptions(t, gw)).toBe(200);
  await sleep(300);
  baseline = await gw.probe();
}, 60_000);

afterAll(stopAllProcesses);

function alive(): void {
  expect(gw.proc.running, gw.proc.stderr().slice(-3000)).toBe(true);
  expect(gw.uncaught()).toEqual([]);
  expect(gw.errors()).toEqual([]);
  expect(gw.proc.stderr()).not.toMatch(/\(node:\d+\) \w*Warning/);
}

describe(`transport fuzz (seed ${SEED}, ${MESSAGES} messages per transport)`, { timeout: 60_000 }, () => {
  it('UDP: mutated datagrams — no crash, answers a final OPTIONS', async () => {
    const r = rng(SEED);
    const result = await driveUdp(r, [...validSeeds('UDP', FROM.udp, GATEWAY_IP), ...torture], gw.sipPort, MESSAGES);
    expect(result.sent).toBe(MESSAGES);
    alive();
    expect(await finalOptions('udp', gw)).toBe(200);
  });

  it('TCP: mutated messages in streams cut at random boundaries — no crash, answers a final OPTIONS', async () => {
    const r = rng(SEED + 1);
    const result = await driveTcp(r, [...validSeeds('TCP', FROM.tcp, GATEWAY_IP), ...torture], gw.sipPort, MESSAGES);
    expect(result.sent).toBe(MESSAGES);
    alive();
    expect(await finalOptions('tcp', gw)).toBe(200);
  });

  it('WebSocket: mutated messages as text and binary frames — no crash, answers a final OPTIONS', async () => {
    const r = rng(SEED + 2);
    const result = await driveWs(r, [...validSeeds('WS', FROM.ws, GATEWAY_IP), ...torture], gw.httpPort, MESSAGES);
    expect(result.sent).toBe(MESSAGES);
    alive();
    expect(await finalOptions('ws', gw)).toBe(200);
  });

  it('afterwards: descriptors back to the baseline, heap after GC near it', async () => {
    // Every fuzz connection is closed on our side; the gateway's side follows (its close handlers).
    await expect.poll(() => gw.fds(), { timeout: 15_000, interval: 100 }).toBeLessThanOrEqual(baseline.fds + FD_TOLERANCE);
    const after = await gw.probe();
    expect(after.fds).toBeLessThanOrEqual(baseline.fds + FD_TOLERANCE);
    expect(after.heapUsed - baseline.heapUsed, `heap ${baseline.heapUsed} → ${after.heapUsed}`).toBeLessThanOrEqual(HEAP_BOUND);
    if (process.env.FUZZ_REPORT) process.stderr.write(`fuzz: baseline ${JSON.stringify(baseline)} after ${JSON.stringify(after)}\n`);
    alive();
  });
});
