// The CDR stores (SQLite and memory) behind one interface: rows written at start, answer and end; rows
// left open closed as "gateway restarted" by recover(); queries by time, user and number; retention.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryCdrStore } from '../../../gateway/cdr/memory-store.js';
import { SqliteCdrStore } from '../../../gateway/cdr/sqlite-store.js';
import type { CdrStart, CdrStore } from '../../../gateway/cdr/types.js';

const open: CdrStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const start = (id: string, t: number, o: Partial<CdrStart> = {}): CdrStart => ({
  id, direction: 'outbound', callerUser: 'alice', callerNumber: '+15550001', calleeUser: null, calleeNumber: '+4930123456', trunk: 'carrier', startTime: t, mediaEngine: 'embedded', ...o,
});

const stores: Array<[string, () => CdrStore]> = [
  ['sqlite', () => new SqliteCdrStore(join(mkdtempSync(join(tmpdir(), 'cdr-unit-')), 'sub', 'cdr.sqlite'))],
  ['memory', () => new MemoryCdrStore()],
];

describe.each(stores)('%s CDR store', (_kind, make) => {
  const fresh = (): CdrStore => {
    const s = make();
    open.push(s);
    return s;
  };

  it('start → answer → end gives one closed row with every field', async () => {
    const s = fresh();
    await s.start(start('a', 1000));
    expect((await s.query({}))[0]).toMatchObject({ id: 'a', closed: false, answerTime: null, endTime: null });
    await s.answer('a', { answerTime: 2000, trunk: 'backup', codec: 'PCMA' });
    const quality = { caller: { packets: 100, lost: 0, jitterMs: 1.5, rttMs: 20, mos: 4.4 }, callee: { packets: 95, lost: 5, jitterMs: 3, rttMs: null, mos: 4.1 } };
    await s.end('a', { endTime: 14_300, duration: 12.3, status: 200, reason: 'normal clearing', endedBy: 'caller', trunk: null, codec: null, quality });
    expect(await s.query({})).toEqual([{
      ...start('a', 1000), trunk: 'backup', answerTime: 2000, endTime: 14_300, duration: 12.3, status: 200, reason: 'normal clearing',
      endedBy: 'caller', codec: 'PCMA', quality, closed: true,
    }]);
  });

  it('recover() closes only the rows left open: answered ones with 200, unanswered ones without a status', async () => {
    const s = fresh();
    await s.start(start('done', 1));
    await s.end('done', { endTime: 5, duration: 0, status: 486, reason: 'Busy Here', endedBy: 'callee', trunk: null, codec: null });
    await s.start(start('up', 2));
    await s.answer('up', { answerTime: 3, trunk: null, codec: 'PCMU' });
    await s.start(start('ringing', 4));
    expect(await s.recover()).toBe(2);
    const rows = Object.fromEntries((await s.query({})).map((r) => [r.id, r]));
    expect(rows.done).toMatchObject({ status: 486, reason: 'Busy Here', endedBy: 'callee', closed: true });
    expect(rows.up).toMatchObject({ status: 200, reason: 'gateway restarted', endedBy: 'gateway', endTime: null, duration: null, closed: true });
    expect(rows.ringing).toMatchObject({ status: null, reason: 'gateway restarted', endedBy: 'gateway', closed: true });
    expect(await s.recover()).toBe(0);
  });

  it('queries by time range, user on either side, number substring, with a limit; oldest first', async () => {
    const s = fresh();
    await s.start(start('1', 100, { callerUser: 'bob', calleeNumber: '5551234' }));
    await s.start(start('2', 200, { direction: 'inbound', callerUser: null, callerNumber: '+4930999', calleeUser: 'alice', calleeNumber: '+15550001' }));
    await s.start(start('3', 300, { calleeNumber: '+4930123' }));
    const ids = async (q: Parameters<CdrStore['query']>[0]): Promise<string[]> => (await s.query(q)).map((r) => r.id);
    expect(await ids({})).toEqual(['1', '2', '3']);
    expect(await ids({ from: 200 })).toEqual(['2', '3']);
    expect(await ids({ from: 100, to: 300 })).toEqual(['1', '2']);
    expect(await ids({ user: 'alice' })).toEqual(['2', '3']);
    expect(await ids({ user: 'bob' })).toEqual(['1']);
    expect(await ids({ number: '4930' })).toEqual(['2', '3']);
    expect(await ids({ number: '%' })).toEqual([]);
    expect(await ids({ limit: 2 })).toEqual(['1', '2']);
  });

  it('prune() deletes closed records older than the cut, never a call still up', async () => {
    const s = fresh();
    await s.start(start('old', 10));
    await s.end('old', { endTime: 20, duration: 0, status: 487, reason: 'Request Terminated', endedBy: 'caller', trunk: null, codec: null });
    await s.start(start('old-open', 15));
    await s.start(start('new', 1000));
    await s.end('new', { endTime: 1001, duration: 0, status: 404, reason: 'No Route', endedBy: 'gateway', trunk: null, codec: null });
    expect(await s.prune(500)).toBe(1);
    expect((await s.query({})).map((r) => r.id)).toEqual(['old-open', 'new']);
  });

  it('writes for an unknown id, and after close, are ignored', async () => {
    const s = fresh();
    await s.answer('nope', { answerTime: 1, trunk: null, codec: null });
    await s.end('nope', { endTime: 1, duration: 0, status: 500, reason: 'x', endedBy: 'gateway', trunk: null, codec: null });
    expect(await s.query({})).toEqual([]);
    await s.close();
    await s.start(start('late', 1));
    await s.close();
  });
});

describe('SQLite CDR store file', () => {
  it('is in WAL mode and keeps its rows across a reopen', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cdr-unit-')), 'cdr.sqlite');
    const a = new SqliteCdrStore(file);
    await a.start(start('kept', 1));
    await a.close();
    const b = new SqliteCdrStore(file);
    open.push(b);
    expect((await b.query({})).map((r) => r.id)).toEqual(['kept']);
    expect(await b.recover()).toBe(1);
  });

  it('the memory store keeps only its newest records', async () => {
    const s = new MemoryCdrStore(3);
    for (let i = 0; i < 5; i++) await s.start(start(String(i), i));
    expect((await s.query({})).map((r) => r.id)).toEqual(['2', '3', '4']);
  });
});
