// The recent-calls list (incoming and outgoing, newest first) and the missed calls within it.
// Pure module (no DOM, no sip.js): unit-tested. The page keeps it in the browser (storage.js): `records`
// is what is saved, `restore()` takes it back after a reload, checking every record (storage is input).
import { callerLabel } from './callerid.js';
import { END_REASONS, formatDuration } from './reasons.js';
import { shortEndWords } from './words.js';

/**
 * @typedef {'answered' | 'missed' | 'answered-elsewhere' | 'declined' | 'failed'} Outcome
 * @typedef {{ id: number, direction: 'in' | 'out', number: string, displayName: string, at: number,
 *             durationMs: number | null, outcome: Outcome, reason: string }} CallRecord
 */

const OUTCOMES = Object.freeze(['answered', 'missed', 'answered-elsewhere', 'declined', 'failed']);

export class CallLog {
  /** @param {number} [limit] how many records are kept (oldest dropped first) */
  constructor(limit = 50) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('CallLog: limit must be a positive integer');
    this.limit = limit;
    /** @type {CallRecord[]} newest first */
    this.records = [];
    this.nextId = 1;
  }

  /**
   * Adds a finished call. `durationMs` is set only for answered calls; `reason` says why the others
   * ended ("Busy (486)", "Not answered").
   * @param {Omit<CallRecord, 'id'>} r
   * @returns {CallRecord}
   */
  add(r) {
    if (r.direction !== 'in' && r.direction !== 'out') throw new Error(`CallLog: bad direction ${String(r.direction)}`);
    if (!OUTCOMES.includes(r.outcome)) throw new Error(`CallLog: bad outcome ${String(r.outcome)}`);
    const durationMs = r.outcome === 'answered' ? Math.max(0, Number(r.durationMs) || 0) : null;
    const record = Object.freeze({ ...r, durationMs, id: this.nextId++ });
    this.records.unshift(record);
    if (this.records.length > this.limit) this.records.length = this.limit;
    return record;
  }

  /** Every kept call, newest first. @returns {readonly CallRecord[]} */
  recent() {
    return [...this.records];
  }

  /** Incoming calls nobody answered (answered elsewhere does not count), newest first. */
  missed() {
    return this.records.filter((r) => r.direction === 'in' && r.outcome === 'missed');
  }

  /** How many missed calls came after `seenAt` (ms since epoch): the count the page shows as new. */
  missedSince(/** @type {number} */ seenAt) {
    return this.missed().filter((r) => r.at > seenAt).length;
  }

  /**
   * Takes back saved records (newest first, as `records` was), keeping only well-formed ones, with new
   * ids. Records added since the page started stay in front.
   * @param {unknown} saved @returns {number} how many were taken
   */
  restore(saved) {
    if (!Array.isArray(saved)) return 0;
    const taken = saved.filter(isRecord).slice(0, this.limit);
    const known = new Set(this.records.map((r) => `${r.at}|${r.number}|${r.direction}`));
    const fresh = taken.filter((r) => !known.has(`${r.at}|${r.number}|${r.direction}`));
    // Only the known fields: anything else stored beside them is dropped, not carried along. Fresh ids
    // (oldest first): unique beside this page's own records.
    const ids = fresh.map((_r, i) => this.nextId + fresh.length - 1 - i);
    this.nextId += fresh.length;
    const clean = fresh.map((r, i) => Object.freeze({
      id: ids[i] ?? 0, direction: r.direction, number: r.number, displayName: r.displayName, at: r.at,
      durationMs: r.durationMs, outcome: r.outcome, reason: r.reason,
    }));
    this.records = [...this.records, ...clean].slice(0, this.limit);
    return fresh.length;
  }
}

/** A stored record is only trusted in this exact shape. @param {any} r @returns {r is CallRecord} */
function isRecord(r) {
  return typeof r === 'object' && r !== null
    && Number.isSafeInteger(r.id) && r.id > 0
    && (r.direction === 'in' || r.direction === 'out')
    && typeof r.number === 'string' && r.number.length <= 256
    && typeof r.displayName === 'string' && r.displayName.length <= 256
    && Number.isFinite(r.at)
    && (r.durationMs === null || (Number.isFinite(r.durationMs) && r.durationMs >= 0))
    && OUTCOMES.includes(r.outcome)
    && typeof r.reason === 'string' && r.reason.length <= 256;
}

/** "Missed call from Alice (+15550100)". @param {CallRecord} r */
export function missedLabel(r) {
  return `Missed call from ${callerLabel(r)}`;
}

/**
 * The line shown in the recent-calls list: arrow for the direction, who, and the duration of an
 * answered call or the reason another one ended.
 * @param {CallRecord} r
 */
export function recordLabel(r) {
  const arrow = r.direction === 'in' ? '↙' : '↗';
  // People's words ("Busy", "Offline"), never a SIP code (words.js).
  const what = r.outcome === 'answered' ? formatDuration(r.durationMs ?? 0) : shortEndWords(r.reason, r.number) || r.outcome;
  return `${arrow} ${callerLabel(r)} · ${what}`;
}

/**
 * The recent-calls entry of a session that just ended.
 * @param {{ direction: 'in' | 'out', callerId: { number: string, displayName: string } | null, peer: string,
 *           cancelled: { outcome: 'missed' | 'answered-elsewhere', text: string } | null, startedAt: number,
 *           answeredAt: number }} s
 * @param {boolean} answered @param {string} reason @param {number} now
 * @returns {Omit<CallRecord, 'id'>}
 */
export function sessionRecord(s, answered, reason, now) {
  const id = s.direction === 'in' && s.callerId ? s.callerId : { number: s.peer, displayName: '' };
  /** @type {Outcome} */
  let outcome = 'failed';
  if (answered) outcome = 'answered';
  else if (s.direction === 'in' && s.cancelled) outcome = s.cancelled.outcome;
  else if (s.direction === 'in' && reason === END_REASONS.declined) outcome = 'declined';
  const missedText = outcome === 'missed' ? s.cancelled?.text : '';
  return {
    direction: s.direction,
    number: id.number,
    displayName: id.displayName,
    at: s.startedAt,
    durationMs: answered ? now - s.answeredAt : null,
    outcome,
    reason: missedText || reason,
  };
}
