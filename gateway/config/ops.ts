// Operations keys (README "Operations"): call detail records, the token of the operator endpoints
// (/metrics, /api/cdrs) and the log format. Imported by schema.ts; every key documented in
// sip-config/gateway.yaml.
import { z } from 'zod';

export const cdrSchema = z
  .object({
    /** SQLite file of the call detail records (WAL mode), relative to the config file. Absent: kept in
     *  memory only (the last MEMORY_CDR_LIMIT records, lost at restart). */
    path: z.string().min(1).optional(),
    /** Days a record is kept (pruned at start and hourly, by start time); 0: forever. */
    retentionDays: z.number().int().min(0).max(36_500).default(90),
  })
  .strict()
  .default({});

export const apiSchema = z
  .object({
    /** Bearer token for /metrics and /api/cdrs (`Authorization: Bearer <token>`), from any address.
     *  Absent: those endpoints answer loopback clients only (127.0.0.0/8, ::1). */
    token: z.string().min(16, 'at least 16 characters (e.g. `openssl rand -hex 24`)').optional(),
  })
  .strict()
  .default({});

export const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** json: one JSON object per line (ISO time, level name); pretty: pino-pretty's coloured lines;
     *  auto: pretty when stdout is a terminal, else json. */
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
  })
  .strict()
  .default({});

export type CdrConfig = z.infer<typeof cdrSchema>;
export type ApiConfig = z.infer<typeof apiSchema>;
export type LogConfig = z.infer<typeof logSchema>;
