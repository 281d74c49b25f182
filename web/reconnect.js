// How long the page waits before it tries a lost WebSocket again. Pure module: unit-tested.

/**
 * Delay before reconnection attempt `attempt` (1, 2, …): 1 s doubling to at most 30 s (RFC 5626
 * §4.5's idea of a capped exponential backoff, without its jitter: one tab, one server).
 * @param {number} attempt
 */
export function reconnectDelayMs(attempt) {
  const n = Math.max(1, Math.floor(attempt));
  return Math.min(30_000, 1000 * 2 ** Math.min(n - 1, 15));
}
