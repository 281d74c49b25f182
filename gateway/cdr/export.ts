// CDR export (GET /api/cdrs): JSON (an array of records with ISO times) or CSV (RFC 4180, a header
// line, one line per record), and the query string parser.
import type { CdrQuery, CdrRecord } from './types.js';

export type ExportFormat = 'json' | 'csv';

/** A bad query parameter (→ 400 naming it). */
export class CdrQueryError extends Error {}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A record as exported: times ISO 8601 UTC, quality per leg. */
export function exportRecord(r: CdrRecord): Record<string, unknown> {
  return {
    id: r.id, direction: r.direction, callerUser: r.callerUser, callerNumber: r.callerNumber, calleeUser: r.calleeUser, calleeNumber: r.calleeNumber,
    trunk: r.trunk, start: iso(r.startTime), answer: iso(r.answerTime), end: iso(r.endTime), duration: r.duration, status: r.status, reason: r.reason,
    endedBy: r.endedBy, codec: r.codec, mediaEngine: r.mediaEngine, closed: r.closed, quality: r.quality,
  };
}

const LEG_COLUMNS = ['packets', 'lost', 'jitterMs', 'rttMs', 'mos'] as const;
export const CSV_COLUMNS = [
  'id', 'direction', 'callerUser', 'callerNumber', 'calleeUser', 'calleeNumber', 'trunk', 'start', 'answer', 'end', 'duration', 'status', 'reason', 'endedBy', 'codec', 'mediaEngine',
  ...(['caller', 'callee'] as const).flatMap((leg) => LEG_COLUMNS.map((c) => `${leg}${c[0]!.toUpperCase()}${c.slice(1)}`)),
] as const;

/** RFC 4180 quoting; a cell a spreadsheet would take for a formula (=, @, or +/- not followed by a
 *  number only) gets a leading apostrophe. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/^[=@\t\r]/.test(s) || /^[+-](?![\d ]*$)/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(records: readonly CdrRecord[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of records) {
    const e = exportRecord(r);
    const legs = (['caller', 'callee'] as const).flatMap((leg) => LEG_COLUMNS.map((c) => r.quality[leg][c]));
    lines.push([...CSV_COLUMNS.slice(0, 16).map((k) => e[k]), ...legs].map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function toJson(records: readonly CdrRecord[]): string {
  return JSON.stringify(records.map(exportRecord));
}

/** A time parameter: ISO 8601 or epoch milliseconds. */
function time(name: string, v: string): number {
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw new CdrQueryError(`${name}: expected an ISO 8601 time or epoch milliseconds`);
  return t;
}

/** from, to, user, number, limit, format from a query string's values. */
export function parseCdrQuery(params: Record<string, unknown>): { query: CdrQuery; format: ExportFormat } {
  const one = (name: string): string | undefined => {
    const v = params[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length > 200) throw new CdrQueryError(`${name}: expected one value`);
    return v;
  };
  const query: CdrQuery = {};
  const [from, to, user, number, limit, format] = ['from', 'to', 'user', 'number', 'limit', 'format'].map(one);
  if (from !== undefined) query.from = time('from', from);
  if (to !== undefined) query.to = time('to', to);
  if (user) query.user = user;
  if (number) query.number = number;
  if (limit !== undefined) {
    if (!/^\d{1,5}$/.test(limit) || Number(limit) < 1) throw new CdrQueryError('limit: expected 1-10000');
    query.limit = Number(limit);
  }
  if (format !== undefined && format !== 'csv' && format !== 'json') throw new CdrQueryError('format: expected csv or json');
  return { query, format: format ?? 'json' };
}
