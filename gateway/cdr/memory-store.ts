// CDRs in memory (cdr.path absent): the newest MEMORY_CDR_LIMIT records, lost at restart. The same
// interface as the SQLite store, for tests and for a gateway run without a file.
import { emptyQuality, queryLimit, REASON_RESTARTED, type CdrQuery, type CdrRecord, type CdrStore } from './types.js';

export const MEMORY_CDR_LIMIT = 10_000;

export class MemoryCdrStore implements CdrStore {
  readonly kind = 'memory';
  private readonly rows = new Map<string, CdrRecord>();

  constructor(private readonly limit = MEMORY_CDR_LIMIT) {}

  async recover(): Promise<number> {
    let n = 0;
    for (const r of this.rows.values()) {
      if (r.closed) continue;
      Object.assign(r, { closed: true, reason: REASON_RESTARTED, endedBy: 'gateway', status: r.answerTime === null ? null : 200 });
      n++;
    }
    return n;
  }

  async start(row: Parameters<CdrStore['start']>[0]): Promise<void> {
    const quality = { caller: emptyQuality(), callee: emptyQuality() };
    this.rows.set(row.id, { ...row, answerTime: null, endTime: null, duration: null, status: null, reason: null, endedBy: null, codec: null, quality, closed: false });
    // The oldest go first (a Map iterates in insertion order).
    for (const id of this.rows.keys()) {
      if (this.rows.size <= this.limit) break;
      this.rows.delete(id);
    }
  }

  async answer(id: string, fields: Parameters<CdrStore['answer']>[1]): Promise<void> {
    const r = this.rows.get(id);
    if (r) Object.assign(r, defined(fields));
  }

  async end(id: string, fields: Parameters<CdrStore['end']>[1]): Promise<void> {
    const r = this.rows.get(id);
    if (r) Object.assign(r, defined(fields), { closed: true });
  }

  async query(q: CdrQuery): Promise<CdrRecord[]> {
    const out: CdrRecord[] = [];
    const sorted = [...this.rows.values()].sort((a, b) => a.startTime - b.startTime);
    for (const r of sorted) {
      if (q.from !== undefined && r.startTime < q.from) continue;
      if (q.to !== undefined && r.startTime >= q.to) continue;
      if (q.user !== undefined && r.callerUser !== q.user && r.calleeUser !== q.user) continue;
      if (q.number !== undefined && !r.callerNumber.includes(q.number) && !r.calleeNumber.includes(q.number)) continue;
      out.push(structuredClone(r));
      if (out.length >= queryLimit(q)) break;
    }
    return out;
  }

  async prune(before: number): Promise<number> {
    let n = 0;
    for (const [id, r] of this.rows) if (r.startTime < before && r.closed && this.rows.delete(id)) n++;
    return n;
  }

  async close(): Promise<void> {}
}

/** The fields that are set: a null (or absent) trunk or codec keeps what the row has, as in SQL's COALESCE. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && !(v === null && (k === 'trunk' || k === 'codec')))) as Partial<T>;
}
