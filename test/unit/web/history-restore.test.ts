// web/history.js: the call log saved in the browser and taken back after a reload. Storage is input:
// restore() keeps only well-formed records (seeded mutation: never throws; what it takes re-serialises).
import { describe, expect, it } from 'vitest';
import { CallLog, type CallRecord } from '../../../web/history.js';
import { rng } from '../../support/rng.js';

const base: Omit<CallRecord, 'id'> = {
  direction: 'in', number: '1001', displayName: 'alice', at: 1_000, durationMs: null, outcome: 'missed', reason: 'Not answered',
};

function saved(): unknown {
  const log = new CallLog();
  log.add({ ...base });
  log.add({ ...base, direction: 'out', number: '1002', displayName: '', at: 2_000, outcome: 'answered', durationMs: 61_000, reason: '' });
  log.add({ ...base, at: 3_000 });
  return JSON.parse(JSON.stringify(log.records));
}

describe('web/history: restore after a reload', () => {
  it('takes back the saved records in order, with ids unique beside the page\'s own', () => {
    const log = new CallLog();
    expect(log.restore(saved())).toBe(3);
    expect(log.recent().map((r) => r.at)).toEqual([3_000, 2_000, 1_000]);
    expect(log.missed()).toHaveLength(2);
    const next = log.add({ ...base, at: 4_000 });
    expect(next.id).toBe(4);
    expect(log.recent()[0]).toBe(next);
  });

  it('calls of this page stay in front; a record already there is not doubled', () => {
    const log = new CallLog();
    log.add({ ...base, at: 9_000 });
    log.restore(saved());
    log.restore(saved());
    expect(log.recent().map((r) => r.at)).toEqual([9_000, 3_000, 2_000, 1_000]);
    expect(new Set(log.recent().map((r) => r.id)).size).toBe(4);
  });

  it('keeps at most the limit', () => {
    const log = new CallLog(2);
    log.restore(saved());
    expect(log.recent().map((r) => r.at)).toEqual([3_000, 2_000]);
  });

  it('counts missed calls after the time they were last seen', () => {
    const log = new CallLog();
    log.restore(saved());
    expect(log.missedSince(0)).toBe(2);
    expect(log.missedSince(1_000)).toBe(1);
    expect(log.missedSince(3_000)).toBe(0);
  });

  it('ignores what is not a list of records', () => {
    for (const junk of [null, undefined, 1, 'x', {}, { records: [] }, [null], [1, 'a'], [{ ...base }]]) {
      const log = new CallLog();
      expect(log.restore(junk)).toBe(0);
      expect(log.recent()).toEqual([]);
    }
    const log = new CallLog();
    expect(log.restore([{ ...base, id: 1, outcome: 'stolen' }, { ...base, id: 2, direction: 'sideways' }, { ...base, id: 3, at: 'now' }, { ...base, id: 4, number: 'x'.repeat(300) }])).toBe(0);
  });

  it('seeded mutation: never throws; every record taken is well formed and re-serialises unchanged', () => {
    const random = rng(1010);
    const values: unknown[] = [null, -1, 0, 1.5, 1e308, NaN, '', 'in', 'out', 'missed', 'answered', '<b>', [], {}, true, 'x'.repeat(300)];
    const fields = ['id', 'direction', 'number', 'displayName', 'at', 'durationMs', 'outcome', 'reason', 'extra'];
    for (let i = 0; i < 2000; i += 1) {
      const records = saved() as Array<Record<string, unknown>>;
      for (let m = 0; m < 1 + Math.floor(random() * 4); m += 1) {
        const r = records[Math.floor(random() * records.length)]!;
        const field = fields[Math.floor(random() * fields.length)]!;
        if (random() < 0.2) delete r[field];
        else r[field] = values[Math.floor(random() * values.length)];
      }
      const log = new CallLog();
      expect(() => log.restore(records)).not.toThrow();
      for (const r of log.recent()) {
        expect(['in', 'out']).toContain(r.direction);
        expect(['answered', 'missed', 'answered-elsewhere', 'declined', 'failed']).toContain(r.outcome);
        expect(Number.isFinite(r.at)).toBe(true);
        const again = new CallLog();
        again.restore(JSON.parse(JSON.stringify([r])));
        expect(again.recent()).toEqual([{ ...r, id: 1 }]);
      }
    }
  });
});
