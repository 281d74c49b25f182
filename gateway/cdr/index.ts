// Call detail records (README "Operations"): the store chosen by cdr.path (SQLite, else memory), the
// rows a crash left open closed as "gateway restarted", retention (cdr.retentionDays, pruned at start and
// hourly), the recorder that follows every call, and GET /api/cdrs.
import type { Request, Response } from 'express';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { CdrQueryError, parseCdrQuery, toCsv, toJson } from './export.js';
import { MemoryCdrStore } from './memory-store.js';
import { CdrRecorder, type RecorderOptions } from './recorder.js';
import { SqliteCdrStore } from './sqlite-store.js';
import type { CdrStore } from './types.js';

export type { CdrRecord, CdrStore, CdrQuery } from './types.js';
export { REASON_RESTARTED } from './types.js';
export { CdrRecorder } from './recorder.js';
export { SqliteCdrStore } from './sqlite-store.js';
export { MemoryCdrStore } from './memory-store.js';
export { toCsv, toJson, parseCdrQuery } from './export.js';

const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

export interface Cdrs {
  store: CdrStore;
  recorder: CdrRecorder;
  /** GET /api/cdrs?from=&to=&user=&number=&limit=&format=csv|json (behind the operator guard). */
  handler(req: Request, res: Response): void;
  /** Stops pruning and closes the store (after the calls' ends were written). Idempotent. */
  close(): Promise<void>;
}

/** Opens the store of `config.cdr` and closes what a previous run left open. */
export async function openCdrs(config: GatewayConfig, logger: Logger, now: () => number = Date.now, quality?: RecorderOptions['quality']): Promise<Cdrs> {
  const path = config.cdr.path;
  let store: CdrStore;
  try {
    store = path ? new SqliteCdrStore(path) : new MemoryCdrStore();
  } catch (err) {
    throw new Error(`cdr.path: cannot open ${path}: ${(err as Error).message}`);
  }
  const recovered = await store.recover();
  if (recovered > 0) logger.warn({ rows: recovered }, `cdr: ${recovered} call(s) left open by the previous run closed as "gateway restarted"`);
  const where = path ? `in ${path}` : 'in memory only (cdr.path not set): lost at restart';
  logger.info({ store: store.kind, ...(path && { path }), retentionDays: config.cdr.retentionDays }, `cdr: call detail records kept ${where}`);
  const prune = (): void => {
    const days = config.cdr.retentionDays;
    if (days <= 0) return;
    store.prune(now() - days * DAY_MS).then(
      (n) => n > 0 && logger.info({ rows: n, retentionDays: days }, 'cdr: old records pruned'),
      (err: Error) => logger.error({ err: err.message }, 'cdr: prune failed'),
    );
  };
  prune();
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref();
  const recorder = new CdrRecorder({ store, mediaEngine: config.media.engine, logger, now, ...(quality && { quality }) });
  let closing: Promise<void> | undefined;
  return {
    store,
    recorder,
    handler: (req, res) => void answerQuery(store, req, res, logger),
    close() {
      clearInterval(timer);
      closing ??= store.close();
      return closing;
    },
  };
}

async function answerQuery(store: CdrStore, req: Request, res: Response, logger: Logger): Promise<void> {
  let parsed;
  try {
    parsed = parseCdrQuery(req.query as Record<string, unknown>);
  } catch (err) {
    if (err instanceof CdrQueryError) return void res.status(400).type('text/plain').send(err.message);
    throw err;
  }
  try {
    const rows = await store.query(parsed.query);
    if (parsed.format === 'csv') res.type('text/csv; charset=utf-8').setHeader('Content-Disposition', 'attachment; filename="cdrs.csv"').send(toCsv(rows));
    else res.type('application/json').send(toJson(rows));
  } catch (err) {
    logger.error({ err: (err as Error).message }, 'cdr: query failed');
    res.status(500).type('text/plain').send('CDR query failed');
  }
}
