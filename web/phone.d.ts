// Types for phone.js (used by the TypeScript unit tests; the browser loads the .js).
import type { CallState, Machine, RegistrationState } from './state.js';
export declare class Phone extends EventTarget {
  constructor(opts: { wsUrl: string; defaultDomain: string });
  readonly wsUrl: string;
  domain: string;
  peer: string;
  remoteStream: unknown;
  peerConnection: unknown;
  readonly registration: Machine<RegistrationState>;
  readonly call: Machine<CallState>;
  signIn(creds: { user: string; password: string; domain?: string }): Promise<void>;
  signOut(): Promise<void>;
  dial(input: string): Promise<void>;
  hangup(): Promise<void>;
  accept(): Promise<void>;
  decline(): Promise<void>;
  sendDtmf(digit: string): boolean;
}
