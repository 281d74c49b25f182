import { describe, expect, it, vi } from 'vitest';
import { ConnectionFlow } from '../../../gateway/sip/transport/flow.js';

class TestFlow extends ConnectionFlow {
  write(): Promise<void> {
    return Promise.resolve();
  }
}

const make = (onListenerError = vi.fn()) =>
  new TestFlow('tcp#t', 'tcp', { address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 }, 'connecting', onListenerError);

describe('ConnectionFlow', () => {
  it('is alive only while open', () => {
    const flow = make();
    expect(flow.alive).toBe(false);
    flow.markOpen();
    expect(flow.alive).toBe(true);
    expect(flow.reliable).toBe(true);
    flow.markClosed();
    expect(flow.alive).toBe(false);
    expect(() => flow.markOpen()).toThrow(/closed -> open/);
  });

  it('fires close listeners once, honours unsubscribe, and contains a throwing listener', () => {
    const onListenerError = vi.fn();
    const flow = make(onListenerError);
    const a = vi.fn();
    const b = vi.fn();
    flow.onClose(() => {
      throw new Error('listener bug');
    });
    flow.onClose(a);
    const unsubscribe = flow.onClose(b);
    unsubscribe();
    flow.markOpen();
    flow.markClosed();
    flow.markClosed();
    expect(a).toHaveBeenCalledOnce();
    expect(b).not.toHaveBeenCalled();
    expect(onListenerError).toHaveBeenCalledOnce();
  });
});
