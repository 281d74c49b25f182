// Wait for a condition in a test: poll it every 10 ms, fail once `ms` have passed without it.

/** Resolves once `cond()` holds; rejects after `ms` (default 10 s). */
export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
