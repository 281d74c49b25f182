// lazyChild (gateway/log.ts): a per-call logger that becomes a pino child only when a line is written,
// and then writes the very lines the child would.
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, lazyChild } from '../../../gateway/log.js';

function capture(level: string): { lines: Array<Record<string, unknown>>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger(level, sink) };
}

const withoutTime = (l: Record<string, unknown>): Record<string, unknown> => ({ ...l, time: undefined });

describe('lazyChild', () => {
  it('makes no pino child while nothing at an enabled level is written', () => {
    const { logger } = capture('info');
    const child = vi.spyOn(logger, 'child');
    const lazy = lazyChild(logger, { call: 'c-1' });
    lazy.debug({ x: 1 }, 'not written at info');
    lazy.trace('nor this');
    expect(lazy.isLevelEnabled('debug')).toBe(false);
    const nested = lazy.child({ side: 'caller' });
    nested.debug('nested, not written');
    expect(child).not.toHaveBeenCalled();
  });

  it('writes the same lines as the real child, nested bindings included', async () => {
    const real = capture('info');
    const lazy = capture('info');
    real.logger.child({ call: 'c-2', user: 'alice' }).info({ fork: 1 }, 'call answered');
    real.logger.child({ call: 'c-2', user: 'alice' }).child({ side: 'callee' }).warn('grace over');
    const l = lazyChild(lazy.logger, { call: 'c-2', user: 'alice' });
    l.info({ fork: 1 }, 'call answered');
    lazyChild(l, { side: 'callee' }).warn('grace over');
    l.child({ side: 'callee' }).warn('grace over');
    await new Promise((r) => setImmediate(r));
    expect(real.lines).toHaveLength(2);
    expect(lazy.lines.map(withoutTime)).toEqual([...real.lines, real.lines[1]!].map(withoutTime));
  });
});
