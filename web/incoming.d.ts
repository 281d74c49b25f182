// Types for incoming.js (used by the TypeScript unit tests; the browser loads the .js).
import type { CallerId } from './callerid.js';
import type { IncomingEnd } from './state.js';
export declare const INCOMING_END_TEXT: Readonly<{ missed: string; 'answered-elsewhere': string }>;
export declare function incomingEnd(
  state: string,
  cancelled: { outcome: 'missed' | 'answered-elsewhere' } | null,
  reason: string,
): IncomingEnd;
export declare function headerValues(msg: unknown, name: string): string;
export declare function incomingCallerId(invitation: unknown): CallerId;
