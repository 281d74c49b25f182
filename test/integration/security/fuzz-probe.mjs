// Preloaded into the fuzzed gateway process (`node --expose-gc --import <this> --import tsx gateway/main.ts`,
// fuzz-rig.ts): on SIGUSR2 it collects garbage and writes one line `FUZZ-PROBE {"heapUsed":…,"rss":…,
// "fds":…}` to stderr; every uncaught exception or unhandled rejection is reported as a `FUZZ-UNCAUGHT` line
// (uncaughtExceptionMonitor only watches: the process still dies as it would without this file).
import { readdirSync } from 'node:fs';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  const fds = readdirSync('/proc/self/fd').length;
  process.stderr.write(`FUZZ-PROBE ${JSON.stringify({ heapUsed: m.heapUsed, rss: m.rss, fds })}\n`);
});

process.on('uncaughtExceptionMonitor', (err, origin) => {
  process.stderr.write(`FUZZ-UNCAUGHT ${origin} ${String(err?.stack ?? err).replace(/\n/g, ' | ')}\n`);
});
