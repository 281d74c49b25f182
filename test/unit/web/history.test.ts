import { describe, expect, it } from 'vitest';
import { CallLog, missedLabel, recordLabel, type CallRecord } from '../../../web/history.js';

const base: Omit<CallRecord, 'id'> = {
  direction: 'in',
  number: '5557777',
  displayName: 'Carrier Caller',
  at: 1_000,
  durationMs: null,
  outcome: 'missed',
  reason: 'Not answered',
};

describe('web/history: CallLog', () => {
  it('keeps calls newest first and lists only missed incoming ones as missed', () => {
    const log = new CallLog();
    log.add({ ...base, outcome: 'missed' });
    log.add({ ...base, outcome: 'answered-elsewhere', reason: 'Answered elsewhere' });
    log.add({ ...base, direction: 'out', number: '123', displayName: '', outcome: 'answered', durationMs: 42_000 });
    log.add({ ...base, outcome: 'declined', reason: 'Declined' });
    expect(log.recent().map((r) => r.outcome)).toEqual(['declined', 'answered', 'answered-elsewhere', 'missed']);
    expect(log.missed().map((r) => r.outcome)).toEqual(['missed']);
    expect(new Set(log.recent().map((r) => r.id)).size).toBe(4);
  });

  it('drops the oldest beyond its limit', () => {
    const log = new CallLog(2);
    for (const n of ['1', '2', '3']) log.add({ ...base, number: n });
    expect(log.recent().map((r) => r.number)).toEqual(['3', '2']);
  });

  it('keeps a duration only for answered calls, never negative', () => {
    const log = new CallLog();
    expect(log.add({ ...base, outcome: 'missed', durationMs: 5 }).durationMs).toBeNull();
    expect(log.add({ ...base, outcome: 'answered', durationMs: -3 }).durationMs).toBe(0);
  });

  it('rejects bad records with a reason', () => {
    const log = new CallLog();
    expect(() => log.add({ ...base, direction: 'sideways' as 'in' })).toThrow('CallLog: bad direction sideways');
    expect(() => log.add({ ...base, outcome: 'lost' as 'missed' })).toThrow('CallLog: bad outcome lost');
    expect(() => new CallLog(0)).toThrow(/positive integer/);
    expect(log.recent()).toEqual([]);
  });

  it('returns copies: callers cannot edit the log', () => {
    const log = new CallLog();
    log.add(base);
    (log.recent() as CallRecord[]).pop();
    expect(log.recent()).toHaveLength(1);
    expect(Object.isFrozen(log.recent()[0])).toBe(true);
  });
});

describe('web/history: labels', () => {
  it('shows direction, who, and the duration or the reason', () => {
    const log = new CallLog();
    const missed = log.add(base);
    expect(missedLabel(missed)).toBe('Missed call from Carrier Caller (5557777)');
    expect(recordLabel(missed)).toBe('↙ Carrier Caller (5557777) · Not answered');
    const out = log.add({ ...base, direction: 'out', number: '5551234', displayName: '', outcome: 'answered', durationMs: 65_000 });
    expect(recordLabel(out)).toBe('↗ 5551234 · 1:05');
    const busy = log.add({ ...base, direction: 'out', number: '5551234', displayName: '', outcome: 'failed', reason: 'Busy (486)' });
    expect(recordLabel(busy)).toBe('↗ 5551234 · Busy'); // in words, never the SIP code (words.js)
  });
});
