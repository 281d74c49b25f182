// The long transport fuzz (issue 8): the CI test's drivers (test/integration/security/fuzz-rig.ts) with
// FUZZ_MESSAGES mutated messages per transport (default 200,000) against the real gateway process, in
// rounds of 10,000 with the process checked after each: alive, 0 uncaught exceptions / unhandled
// rejections, 0 error-level log lines, a final OPTIONS answered on every transport; at the end descriptors
// and heap after GC against the baseline. Seeded: FUZZ_SEED (default 8).
// Run (a private network namespace, like the tests):
//   unshare -n sh -c 'ip link set lo up && FUZZ_MESSAGES=1000000 npm run bench:fuzz'
import { freePort, freeSipPort } from '../test/support/ports.js';
import { stopAllProcesses } from '../test/support/process.js';
import { rng } from '../test/support/rng.js';
import { tortureSeeds, validSeeds } from '../test/integration/security/fuzz-mutate.js';
import { driveTcp, driveUdp, driveWs, finalOptions, FROM, GATEWAY_IP, sleep, startFuzzedGateway, type FuzzedGateway } from '../test/integration/security/fuzz-rig.js';

const TOTAL = Number(process.env.FUZZ_MESSAGES ?? 200_000);
const SEED = Number(process.env.FUZZ_SEED ?? 8);
const ROUND = 10_000;

function check(gw: FuzzedGateway, where: string): void {
  const problems = [
    ...(gw.proc.running ? [] : ['gateway exited']),
    ...gw.uncaught(),
    ...gw.errors(),
    ...(/\(node:\d+\) \w*Warning/.test(gw.proc.stderr()) ? ['node warning on stderr'] : []),
  ];
  if (problems.length > 0) throw new Error(`${where}: ${problems.slice(0, 5).join('\n')}\n${gw.proc.stderr().slice(-3000)}`);
}

async function main(): Promise<void> {
  const gw = await startFuzzedGateway(await freeSipPort(), await freePort('tcp'));
  const torture = tortureSeeds();
  for (const t of ['udp', 'tcp', 'ws'] as const) if ((await finalOptions(t, gw)) !== 200) throw new Error(`warm-up ${t} failed`);
  await sleep(300);
  const baseline = await gw.probe();
  const r = rng(SEED);
  const seeds = {
    udp: [...validSeeds('UDP', FROM.udp, GATEWAY_IP), ...torture],
    tcp: [...validSeeds('TCP', FROM.tcp, GATEWAY_IP), ...torture],
    ws: [...validSeeds('WS', FROM.ws, GATEWAY_IP), ...torture],
  };
  const sent = { udp: 0, tcp: 0, ws: 0 };
  const started = Date.now();
  let peakHeap = baseline.heapUsed;
  while (sent.udp < TOTAL) {
    const n = Math.min(ROUND, TOTAL - sent.udp);
    sent.udp += (await driveUdp(r, seeds.udp, gw.sipPort, n)).sent;
    sent.tcp += (await driveTcp(r, seeds.tcp, gw.sipPort, n)).sent;
    sent.ws += (await driveWs(r, seeds.ws, gw.httpPort, n)).sent;
    check(gw, `after ${sent.udp} per transport`);
    for (const t of ['udp', 'tcp', 'ws'] as const) if ((await finalOptions(t, gw)) !== 200) throw new Error(`no answer over ${t} after ${sent.udp}`);
    peakHeap = Math.max(peakHeap, (await gw.probe()).heapUsed);
    process.stdout.write(`  ${sent.udp} per transport, ${Math.round((Date.now() - started) / 1000)} s\n`);
  }
  const deadline = Date.now() + 15_000;
  while (gw.fds() > baseline.fds + 3 && Date.now() < deadline) await sleep(100);
  const after = await gw.probe();
  check(gw, 'at the end');
  const mb = (b: number): string => (b / 1048576).toFixed(1);
  process.stdout.write(
    `fuzz seed ${SEED}: ${sent.udp} UDP + ${sent.tcp} TCP + ${sent.ws} WebSocket mutated messages in ${Math.round((Date.now() - started) / 1000)} s\n` +
      `  crashes 0, uncaught exceptions / unhandled rejections 0, error log lines 0, final OPTIONS answered on every transport after every round\n` +
      `  descriptors ${baseline.fds} → ${after.fds}; heap after GC ${mb(baseline.heapUsed)} MB → ${mb(after.heapUsed)} MB (peak ${mb(peakHeap)} MB); RSS ${mb(baseline.rss)} MB → ${mb(after.rss)} MB\n`,
  );
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`fuzz failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAllProcesses());
