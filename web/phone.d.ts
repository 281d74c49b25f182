// Types for phone.js (used by the TypeScript unit tests; the browser loads the .js).
import type { CallerId } from './callerid.js';
import type { CallLog } from './history.js';
import type { CallControl, ControlState } from './call-control.js';
import type { CallState, IncomingState, Machine, RegistrationState } from './state.js';
import type { CallList, CallView } from './calls.js';
import type { Line } from './line.js';
export declare class Phone extends EventTarget {
  constructor(opts: { wsUrl: string; defaultDomain: string; recoveryMs?: number; sessionDescriptionHandlerFactory?: unknown });
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
  /** Hold, ICE restart and reconnection of the established call (null without one). */
  readonly control: CallControl | null;
  readonly ua: unknown;
  /** Every call of the page and the current one. */
  readonly lines: CallList<Line>;
  /** Do not disturb (the page answers every new call 486). */
  readonly dnd: boolean;
  /** The calls as the page lists them. */
  calls(): CallView[];
  setDnd(on: boolean): void;
  /** Holds the active call, resumes `id` (else the newest held call). */
  swap(id?: number): Promise<void>;
  signIn(creds: { user: string; password: string; domain?: string; authUser?: string }): Promise<void>;
  signOut(): Promise<void>;
  dial(input: string): Promise<void>;
  hangup(id?: number): Promise<void>;
  accept(): Promise<void>;
  decline(): Promise<void>;
  sendDtmf(digit: string): boolean;
  setHold(on: boolean): Promise<void>;
  restartIce(): Promise<boolean>;
}
export declare function reconnectDelayMs(attempt: number): number;
