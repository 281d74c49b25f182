import { describe, expect, it } from 'vitest';
import { bestFinal, forkFinal } from '../../../gateway/call/fork-rules.js';

const f = (status: number, reason = `R${status}`) => ({ status, reason });

describe('forkFinal', () => {
  it('relays a fork rejection unchanged', () => {
    expect(forkFinal({ kind: 'response', status: 603, reason: 'Decline' })).toEqual(f(603, 'Decline'));
  });
  it('maps our own failures per §8.1.3.1', () => {
    expect(forkFinal({ kind: 'timeout' }).status).toBe(408);
    expect(forkFinal({ kind: 'transport-error' }).status).toBe(503);
  });
  it('maps redirects and challenges to 480', () => {
    expect(forkFinal({ kind: 'response', status: 302, reason: 'Moved' }).status).toBe(480);
    expect(forkFinal({ kind: 'challenge-without-credentials' }).status).toBe(480);
  });
});

describe('bestFinal', () => {
  it('480 when no fork was tried', () => {
    expect(bestFinal([]).status).toBe(480);
  });
  it('486 when every fork is busy (486 or 600)', () => {
    expect(bestFinal([f(486), f(600), f(486)])).toEqual({ status: 486, reason: 'Busy Here' });
  });
  it('a 6xx wins over anything else', () => {
    expect(bestFinal([f(486), f(480), f(603, 'Decline')])).toEqual(f(603, 'Decline'));
  });
  it('otherwise the lowest class, first received within it', () => {
    expect(bestFinal([f(503), f(480), f(404)])).toEqual(f(480));
    expect(bestFinal([f(503), f(408)])).toEqual(f(408));
    expect(bestFinal([f(500), f(503)])).toEqual(f(500));
  });
  it('a busy fork beside an unavailable one is not "all busy"', () => {
    expect(bestFinal([f(486), f(480)])).toEqual(f(486));
    expect(bestFinal([f(503), f(486)])).toEqual(f(486));
  });
});
