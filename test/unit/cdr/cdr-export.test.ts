// CDR export and its query parser: CSV (RFC 4180, no spreadsheet formulas), JSON with ISO times, the
// RFC 3326 Reason text, how an end is classified, and a seeded mutation test of the query parser (only
// its own error; what it accepts means the same when written back).
import { describe, expect, it } from 'vitest';
import { endOutcome, reasonText } from '../../../gateway/cdr/end-reason.js';
import { CdrQueryError, csvCell, CSV_COLUMNS, parseCdrQuery, toCsv, toJson } from '../../../gateway/cdr/export.js';
import { emptyQuality, type CdrRecord } from '../../../gateway/cdr/types.js';
import { rng } from '../../support/rng.js';

const record = (o: Partial<CdrRecord> = {}): CdrRecord => ({
  id: 'c1', direction: 'outbound', callerUser: 'alice', callerNumber: '+15550001', calleeUser: null, calleeNumber: '+4930123456', trunk: 'carrier',
  startTime: Date.UTC(2026, 0, 31, 12, 0, 0), answerTime: Date.UTC(2026, 0, 31, 12, 0, 3), endTime: Date.UTC(2026, 0, 31, 12, 0, 15, 300), duration: 12.3,
  status: 200, reason: 'normal clearing', endedBy: 'caller', codec: 'PCMU', mediaEngine: 'embedded', quality: { caller: emptyQuality(), callee: emptyQuality() }, closed: true, ...o,
});

describe('CDR export', () => {
  it('CSV: a header and one CRLF line per record, numbers kept, empty cells for nulls', () => {
    const csv = toCsv([record()]);
    const [head, line, end] = csv.split('\r\n');
    expect(head).toBe(CSV_COLUMNS.join(','));
    expect(line).toBe('c1,outbound,alice,+15550001,,+4930123456,carrier,2026-01-31T12:00:00.000Z,2026-01-31T12:00:03.000Z,2026-01-31T12:00:15.300Z,12.3,200,normal clearing,caller,PCMU,embedded,,,,,,,,,,');
    expect(end).toBe('');
  });

  it('CSV cells: quotes, commas and line breaks quoted; formulas defused; phone numbers left alone', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('+cmd|x')).toBe("'+cmd|x");
    expect(csvCell('-1+2')).toBe("'-1+2");
    expect(csvCell('+4930123456')).toBe('+4930123456');
    expect(csvCell(null)).toBe('');
  });

  it('JSON: ISO times and quality per leg', () => {
    const [r] = JSON.parse(toJson([record({ answerTime: null, endTime: null, duration: null, closed: false })])) as Array<Record<string, unknown>>;
    expect(r).toMatchObject({ start: '2026-01-31T12:00:00.000Z', answer: null, end: null, closed: false, quality: { caller: { mos: null } } });
  });

  it('query parameters: ISO or epoch times, user, number, limit, format; bad ones named', () => {
    expect(parseCdrQuery({ from: '2026-01-31T00:00:00Z', to: '1769904000000', user: 'alice', number: '4930', limit: '50', format: 'csv' })).toEqual({
      query: { from: Date.UTC(2026, 0, 31), to: 1769904000000, user: 'alice', number: '4930', limit: 50 }, format: 'csv',
    });
    expect(parseCdrQuery({})).toEqual({ query: {}, format: 'json' });
    for (const [q, key] of [[{ from: 'yesterday' }, 'from'], [{ limit: '0' }, 'limit'], [{ limit: '-3' }, 'limit'], [{ format: 'xml' }, 'format'], [{ user: ['a', 'b'] }, 'user']] as const) {
      expect(() => parseCdrQuery(q as Record<string, unknown>)).toThrow(new RegExp(`^${key}: `));
    }
  });

  it('seeded mutation: the query parser throws only CdrQueryError, and what it accepts reads back the same', () => {
    const next = rng(11);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const junk = (): string => Array.from({ length: Math.floor(next() * 12) }, () => String.fromCharCode(Math.floor(next() * 0x250))).join('');
    const values = ['2026-01-31T12:00:00Z', '0', '1769904000000', 'alice', '4930', '10000', '10001', 'csv', 'json', '', 'NaN', '1e3', '99999999999999999999'];
    for (let i = 0; i < 5000; i++) {
      const params: Record<string, unknown> = {};
      for (const key of ['from', 'to', 'user', 'number', 'limit', 'format', 'other']) {
        if (next() < 0.5) continue;
        const r = next();
        params[key] = r < 0.5 ? pick(values) : r < 0.8 ? junk() : r < 0.9 ? [junk()] : { x: junk() };
      }
      let parsed;
      try {
        parsed = parseCdrQuery(params);
      } catch (err) {
        expect(err).toBeInstanceOf(CdrQueryError);
        continue;
      }
      const back: Record<string, string> = { format: parsed.format };
      for (const [k, v] of Object.entries(parsed.query)) back[k] = String(v);
      expect(parseCdrQuery(back)).toEqual(parsed);
      for (const t of [parsed.query.from, parsed.query.to]) if (t !== undefined) expect(Number.isFinite(t)).toBe(true);
    }
  });
});

describe('how a call ended', () => {
  const info = (o: Partial<Parameters<typeof endOutcome>[0] & object> = {}) => ({ final: { status: 487, reason: 'Request Terminated' }, answered: false, ...o });

  it('the Reason text of an RFC 3326 value', () => {
    expect(reasonText('SIP;cause=408;text="Media timeout"')).toBe('Media timeout');
    expect(reasonText('Q.850;cause=102;text="Maximum \\"call\\" duration"')).toBe('Maximum "call" duration');
    expect(reasonText('Q.850;cause=16')).toBe('Q.850;cause=16');
  });

  it('answered: 200 and "normal clearing" unless a Reason says otherwise; unanswered: the final response', () => {
    expect(endOutcome(info({ by: 'caller', answered: true }), true)).toEqual({ status: 200, reason: 'normal clearing', side: 'caller' });
    expect(endOutcome(info({ reason: 'SIP;cause=408;text="Media timeout"', answered: true }), true)).toEqual({ status: 200, reason: 'Media timeout', side: 'gateway' });
    expect(endOutcome(info({ by: 'caller' }), false)).toEqual({ status: 487, reason: 'Request Terminated', side: 'caller' });
    // Not told who: the callee's doing (its BYE, its rejection).
    expect(endOutcome(info({ final: { status: 486, reason: 'Busy Here' } }), false)).toEqual({ status: 486, reason: 'Busy Here', side: 'callee' });
    expect(endOutcome(undefined, false)).toEqual({ status: 500, reason: 'unknown', side: 'gateway' });
  });
});
