import { pino, type Logger } from 'pino';

export type { Logger };

/** The one logger factory. Tests pass level 'silent'. */
export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: undefined });
}
