// Types for phone.js (used by the TypeScript unit tests; the browser loads the .js).
import type { CallerId } from './callerid.js';
import type { CallLog } from './history.js';
import type { CallState, IncomingState, Machine, RegistrationState } from './state.js';
export declare class Phone extends EventTarget {
  constructor(opts: { wsUrl: string; defaultDomain: string });
  readonly wsUrl: string;
  domain: string;
  peer: string;
  remoteStream: unknown;
  peerConnection: unknown;
  readonly registration: Machine<RegistrationState>;
  readonly call: Machine<CallState>;
  readonly incoming: Machine<IncomingState>;
  readonly callerId: CallerId | null;
  readonly history: CallLog;
  readonly direction: 'in' | 'out';
  /** True while a lost connection is being re-established. */
  readonly reconnecting: boolean;
  signIn(creds: { user: string; password: string; domain?: string }): Promise<void>;
  signOut(): Promise<void>;
  dial(input: string): Promise<void>;
  hangup(): Promise<void>;
  accept(): Promise<void>;
  decline(): Promise<void>;
  sendDtmf(digit: string): boolean;
}
export declare function reconnectDelayMs(attempt: number): number;
