// A leg's log lines carry the leg's fields ({ leg, port }) beside its call's: the call's logger with those
// fields merged into each line written, instead of a pino child per leg — a child costs ≈ 1.2 KiB of heap
// (its own bindings string and level methods) kept for the life of the call, for a few lines per call.
// The lines are the same: pino writes a child's bindings before the line's own fields, and so does this.
import type { Logger } from 'pino';

type Level = 'error' | 'warn' | 'info' | 'debug';

/** What the legs and their DTLS and ICE-TCP parts log with (a pino Logger is one too). */
export interface LegLog {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  isLevelEnabled(level: string): boolean;
}

class FieldLog implements LegLog {
  constructor(
    private readonly parent: Logger,
    private readonly fields: Readonly<Record<string, unknown>>,
  ) {}

  private write(level: Level, obj: object, msg: string | undefined): void {
    if (!this.parent.isLevelEnabled(level)) return;
    this.parent[level]({ ...this.fields, ...obj }, msg);
  }

  error(obj: object, msg?: string): void {
    this.write('error', obj, msg);
  }

  warn(obj: object, msg?: string): void {
    this.write('warn', obj, msg);
  }

  info(obj: object, msg?: string): void {
    this.write('info', obj, msg);
  }

  debug(obj: object, msg?: string): void {
    this.write('debug', obj, msg);
  }

  isLevelEnabled(level: string): boolean {
    return this.parent.isLevelEnabled(level);
  }
}

/** `parent`'s lines with `fields` added to each. */
export function legLog(parent: Logger, fields: Readonly<Record<string, unknown>>): LegLog {
  return new FieldLog(parent, fields);
}
