import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** The one logger factory: JSON lines on stdout (or `destination`, for tests that read what is logged).
 *  Tests pass level 'silent'. */
export function createLogger(level: string = 'info', destination?: DestinationStream): Logger {
  return destination ? pino({ level, base: undefined }, destination) : pino({ level, base: undefined });
}
