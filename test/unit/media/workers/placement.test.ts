// Media worker placement (gateway/media/workers/placement.ts): least-loaded, skipping workers that refuse
// admission, group affinity (refcounted), freed on delete.
import { describe, expect, it } from 'vitest';
import { Placement } from '../../../../gateway/media/workers/placement.js';

describe('media worker placement', () => {
  it('places new keys on the least-loaded worker and keeps a key where it was placed', () => {
    const p = new Placement(2);
    expect(p.place('a')).toEqual({ worker: 0, placed: true });
    expect(p.place('b')).toEqual({ worker: 1, placed: true });
    expect(p.place('c')).toEqual({ worker: 0, placed: true });
    expect(p.place('a')).toEqual({ worker: 0, placed: false });
    expect([p.calls(0), p.calls(1)]).toEqual([2, 1]);
    expect(p.place('d').worker).toBe(1);
  });

  it('frees a key on delete, so the next key goes to the worker it left', () => {
    const p = new Placement(3);
    for (const k of ['a', 'b', 'c', 'd']) p.place(k);
    expect(p.workerOf('d')).toBe(0);
    p.free('b');
    p.free('b'); // idempotent
    expect(p.workerOf('b')).toBeUndefined();
    expect(p.calls(1)).toBe(0);
    expect(p.place('e').worker).toBe(1);
  });

  it('skips a worker that refuses admission while another admits; none admits: the least loaded', () => {
    const p = new Placement(2);
    expect(p.place('a', {}, (w) => w !== 0).worker).toBe(1);
    expect(p.place('b', {}, (w) => w !== 0).worker).toBe(1);
    expect(p.place('c', {}, () => false).worker).toBe(0);
    expect(p.place('d', {}, () => false).worker).toBe(0);
  });

  it('puts keys of one group on the worker of its first key, whatever the load, until the last is freed', () => {
    const p = new Placement(2);
    p.place('call1', { groups: ['call:1'] });
    p.place('other');
    p.place('call1:0', { groups: ['call:1'] });
    p.place('call1:1', { groups: ['call:1'] });
    expect([p.workerOf('call1:0'), p.workerOf('call1:1')]).toEqual([0, 0]);
    p.free('call1');
    p.free('call1:0');
    expect(p.place('call1:1001', { groups: ['call:1'] }).worker).toBe(0); // call1:1 still holds the group
    p.free('call1:1');
    p.free('call1:1001');
    expect(p.calls(0)).toBe(0);
    expect(p.place('call1:2', { groups: ['call:1'] }).worker).toBe(0); // group gone: least loaded again
    p.place('x');
    expect(p.place('call1:3', { groups: ['call:1'] }).worker).toBe(0);
  });

  it('a group bound elsewhere does not move a key: the first bound group in order decides, the others follow', () => {
    const p = new Placement(2);
    p.place('alice-call', { groups: ['call:1', 'user:alice'] }); // worker 0
    p.place('bob-call', { groups: ['call:2', 'user:bob'] }); // worker 1
    // a call between alice and bob: alice's group comes first
    expect(p.place('ab', { groups: ['call:3', 'user:alice', 'user:bob'] }).worker).toBe(0);
    // a new call of carol with alice: carol's group is now bound to alice's worker
    p.place('ac', { groups: ['call:4', 'user:carol', 'user:alice'] });
    expect(p.workerOf('ac')).toBe(0);
    expect(p.place('c2', { groups: ['call:5', 'user:carol'] }).worker).toBe(0);
    expect(p.place('b2', { groups: ['call:6', 'user:bob'] }).worker).toBe(1);
  });

  it('keysOf lists a worker\'s keys (a worker lost), and refuses a placement without workers', () => {
    const p = new Placement(2);
    for (const k of ['a', 'b', 'c']) p.place(k);
    expect(p.keysOf(0).sort()).toEqual(['a', 'c']);
    expect(() => new Placement(0)).toThrow();
  });
});

describe('media worker placement: soft groups', () => {
  it('a user group attracts keys only while under its limit; the call group always binds', () => {
    const p = new Placement(2, 3);
    const placeCall = (n: number) => p.place(`c${n}`, { groups: [`call:${n}`, 'user:alice'] }).worker;
    expect([placeCall(1), placeCall(2), placeCall(3)]).toEqual([0, 0, 0]); // alice's group: 3 keys
    expect(placeCall(4)).toBe(1); // full: least loaded
    expect(placeCall(5)).toBe(1);
    // the forks / transfer legs of call 1 follow it, however full alice's group and however loaded worker 0
    expect(p.place('c1:0', { groups: ['call:1', 'user:alice'] }).worker).toBe(0);
    expect(p.place('c4:1001', { groups: ['call:4', 'user:alice'] }).worker).toBe(1);
    // alice's group under its limit again: it attracts again
    p.free('c2');
    p.free('c3');
    p.free('c1:0');
    expect(placeCall(6)).toBe(0);
  });
});
