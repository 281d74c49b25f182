// Condition waits for the test bed: poll a probe until it yields, or fail naming what was awaited.
import type { ProcessHandle } from '../process.js';

/** Resolves with the first non-undefined value of `probe`; rejects after `timeoutMs` (or when `abort` yields a reason). */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  abort?: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    const reason = abort?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50)); // poll interval, not a race fix
  }
}

/** Waits until `re` matches the process's stdout or stderr; fails at once if the process exits. */
export function waitForProcessOutput(proc: ProcessHandle, re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return until(
    `${proc.name} to print ${re}`,
    () => proc.stdout().match(re) ?? proc.stderr().match(re) ?? undefined,
    timeoutMs,
    () => (proc.running ? undefined : `exited first\n--- stdout\n${proc.stdout().slice(-3000)}\n--- stderr\n${proc.stderr().slice(-3000)}`),
  );
}
