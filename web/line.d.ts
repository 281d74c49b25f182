// Types for line.js (used by the TypeScript unit tests; the browser loads the .js).
import type { CallControl } from './call-control.js';
import type { CallerId } from './callerid.js';
import type { CallState, IncomingState, Machine } from './state.js';
export declare class Line {
  readonly id: number;
  readonly session: any;
  readonly direction: 'in' | 'out';
  readonly peer: string;
  readonly callerId: CallerId | null;
  readonly call: Machine<CallState>;
  readonly incoming: Machine<IncomingState>;
  readonly control: CallControl | null;
  readonly remoteStream: unknown;
  readonly peerConnection: unknown;
  readonly ended: boolean;
  /** The final response of a call that failed (null: it did not end on a response). */
  readonly endStatus: { code: number; phrase: string } | null;
  hangup(): Promise<void>;
  accept(): Promise<void>;
  decline(): Promise<void>;
}
