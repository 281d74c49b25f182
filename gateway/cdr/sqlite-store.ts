// CDRs in SQLite (better-sqlite3, synchronous): WAL mode, one row per call attempt, written when the
// call starts, when it is answered and when it ends — each its own committed transaction, so a `kill -9`
// loses at most the end of the calls up at that moment; the next start closes those rows as
// "gateway restarted" (recover()). synchronous=NORMAL: in WAL mode a commit survives a crash of the
// process (what can be lost to a power cut is the last commits, never the file's consistency).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { emptyQuality, queryLimit, REASON_RESTARTED, type CdrAnswer, type CdrEnd, type CdrQuery, type CdrRecord, type CdrStart, type CdrStore, type LegQuality } from './types.js';

/** Schema version (PRAGMA user_version): a later change adds a migration step. */
const VERSION = 1;
const LEGS = ['caller', 'callee'] as const;
const QUALITY = ['packets', 'lost', 'jitter_ms', 'rtt_ms', 'mos'] as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cdr (
  id TEXT PRIMARY KEY,
  direction TEXT NOT NULL,
  caller_user TEXT,
  caller_number TEXT NOT NULL,
  callee_user TEXT,
  callee_number TEXT NOT NULL,
  trunk TEXT,
  start_time INTEGER NOT NULL,
  answer_time INTEGER,
  end_time INTEGER,
  duration REAL,
  status INTEGER,
  reason TEXT,
  ended_by TEXT,
  codec TEXT,
  media_engine TEXT NOT NULL,
  ${LEGS.flatMap((leg) => QUALITY.map((q) => `${leg}_${q} ${q === 'packets' || q === 'lost' ? 'INTEGER' : 'REAL'}`)).join(',\n  ')},
  closed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cdr_start ON cdr (start_time);
CREATE INDEX IF NOT EXISTS cdr_open ON cdr (closed) WHERE closed = 0;
`;

type Row = Record<string, string | number | null>;

function legOf(row: Row, leg: string): LegQuality {
  const n = (k: string): number | null => (row[`${leg}_${k}`] as number | null) ?? null;
  return { packets: n('packets'), lost: n('lost'), jitterMs: n('jitter_ms'), rttMs: n('rtt_ms'), mos: n('mos') };
}

function recordOf(row: Row): CdrRecord {
  const s = (k: string): string | null => (row[k] as string | null) ?? null;
  const n = (k: string): number | null => (row[k] as number | null) ?? null;
  return {
    id: row.id as string,
    direction: row.direction as CdrRecord['direction'],
    callerUser: s('caller_user'),
    callerNumber: row.caller_number as string,
    calleeUser: s('callee_user'),
    calleeNumber: row.callee_number as string,
    trunk: s('trunk'),
    startTime: row.start_time as number,
    answerTime: n('answer_time'),
    endTime: n('end_time'),
    duration: n('duration'),
    status: n('status'),
    reason: s('reason'),
    endedBy: s('ended_by') as CdrRecord['endedBy'],
    codec: s('codec'),
    mediaEngine: row.media_engine as string,
    quality: { caller: legOf(row, 'caller'), callee: legOf(row, 'callee') },
    closed: row.closed === 1,
  };
}

function qualityParams(q: CdrEnd['quality']): Row {
  const out: Row = {};
  for (const leg of LEGS) {
    const l = q?.[leg] ?? emptyQuality();
    Object.assign(out, { [`${leg}_packets`]: l.packets, [`${leg}_lost`]: l.lost, [`${leg}_jitter_ms`]: l.jitterMs, [`${leg}_rtt_ms`]: l.rttMs, [`${leg}_mos`]: l.mos });
  }
  return out;
}

export class SqliteCdrStore implements CdrStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmt: Record<'start' | 'answer' | 'end' | 'recover' | 'prune', Database.Statement>;
  private closed = false;

  /** Opens (creating it and its folder) the file at `file`; throws with the path on failure. */
  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 2000');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > VERSION) throw new Error(`${file}: CDR schema version ${version} is newer than this gateway's (${VERSION})`);
    this.db.exec(SCHEMA);
    this.db.pragma(`user_version = ${VERSION}`);
    const qualityCols = LEGS.flatMap((leg) => QUALITY.map((q) => `${leg}_${q} = @${leg}_${q}`)).join(', ');
    this.stmt = {
      start: this.db.prepare(`INSERT OR REPLACE INTO cdr (id, direction, caller_user, caller_number, callee_user, callee_number, trunk, start_time, media_engine, closed)
        VALUES (@id, @direction, @callerUser, @callerNumber, @calleeUser, @calleeNumber, @trunk, @startTime, @mediaEngine, 0)`),
      answer: this.db.prepare('UPDATE cdr SET answer_time = @answerTime, trunk = COALESCE(@trunk, trunk), codec = COALESCE(@codec, codec) WHERE id = @id'),
      end: this.db.prepare(`UPDATE cdr SET end_time = @endTime, duration = @duration, status = @status, reason = @reason, ended_by = @endedBy,
        trunk = COALESCE(@trunk, trunk), codec = COALESCE(@codec, codec), ${qualityCols}, closed = 1 WHERE id = @id`),
      recover: this.db.prepare(`UPDATE cdr SET closed = 1, reason = '${REASON_RESTARTED}', ended_by = 'gateway',
        status = CASE WHEN answer_time IS NULL THEN NULL ELSE 200 END WHERE closed = 0`),
      prune: this.db.prepare('DELETE FROM cdr WHERE start_time < ? AND closed = 1'),
    };
  }

  async recover(): Promise<number> {
    return this.stmt.recover.run().changes;
  }

  async start(row: CdrStart): Promise<void> {
    if (!this.closed) this.stmt.start.run({ ...row, callerUser: row.callerUser ?? null, calleeUser: row.calleeUser ?? null, trunk: row.trunk ?? null });
  }

  async answer(id: string, f: CdrAnswer): Promise<void> {
    if (!this.closed) this.stmt.answer.run({ id, answerTime: f.answerTime, trunk: f.trunk ?? null, codec: f.codec ?? null });
  }

  async end(id: string, f: CdrEnd): Promise<void> {
    if (this.closed) return;
    this.stmt.end.run({ id, endTime: f.endTime, duration: f.duration, status: f.status, reason: f.reason, endedBy: f.endedBy, trunk: f.trunk ?? null, codec: f.codec ?? null, ...qualityParams(f.quality) });
  }

  async query(q: CdrQuery): Promise<CdrRecord[]> {
    const where: string[] = [];
    const params: Row = { limit: queryLimit(q) };
    if (q.from !== undefined) (where.push('start_time >= @from'), (params.from = q.from));
    if (q.to !== undefined) (where.push('start_time < @to'), (params.to = q.to));
    if (q.user !== undefined) (where.push('(caller_user = @user OR callee_user = @user)'), (params.user = q.user));
    if (q.number !== undefined) {
      where.push("(instr(caller_number, @number) > 0 OR instr(callee_number, @number) > 0)");
      params.number = q.number;
    }
    const sql = `SELECT * FROM cdr ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY start_time, rowid LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as Row[]).map(recordOf);
  }

  async prune(before: number): Promise<number> {
    return this.stmt.prune.run(before).changes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
