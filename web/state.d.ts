// Types for state.js (used by the TypeScript unit tests; the browser loads the .js).
export type RegistrationState = 'signed-out' | 'connecting' | 'registering' | 'registered' | 'failed';
export type CallState = 'idle' | 'calling' | 'ringing' | 'incoming' | 'in-call' | 'ended';
export type IncomingState = 'none' | 'ringing' | 'accepting' | 'answered' | 'declined' | 'missed' | 'answered-elsewhere' | 'ended';
export type HoldState = 'active' | 'holding' | 'held' | 'resuming';
export type LinkState = 'up' | 'reconnecting' | 'restarting';
export type IncomingEnd = 'declined' | 'missed' | 'answered-elsewhere' | 'ended';
export interface Change<S extends string> { from: S; to: S; reason: string; at: number }
export interface Machine<S extends string> {
  readonly state: S;
  readonly reason: string;
  readonly since: number;
  can(to: S): boolean;
  transition(to: S, reason?: string): void;
}
export declare const REGISTRATION_EDGES: Readonly<Record<RegistrationState, readonly RegistrationState[]>>;
export declare const CALL_EDGES: Readonly<Record<CallState, readonly CallState[]>>;
export declare const INCOMING_EDGES: Readonly<Record<IncomingState, readonly IncomingState[]>>;
export declare const HOLD_EDGES: Readonly<Record<HoldState, readonly HoldState[]>>;
export declare const LINK_EDGES: Readonly<Record<LinkState, readonly LinkState[]>>;
export declare const INCOMING_ENDS: readonly IncomingEnd[];
export declare class IllegalTransition extends Error {
  constructor(machine: string, from: string, to: string);
}
export declare function createMachine<S extends string>(
  name: string,
  edges: Readonly<Record<S, readonly S[]>>,
  initial: S,
  onChange?: (change: Change<S>) => void,
): Machine<S>;
export declare function createRegistrationMachine(onChange?: (c: Change<RegistrationState>) => void): Machine<RegistrationState>;
export declare function createCallMachine(onChange?: (c: Change<CallState>) => void): Machine<CallState>;
export declare function createIncomingMachine(onChange?: (c: Change<IncomingState>) => void): Machine<IncomingState>;
export declare function createHoldMachine(onChange?: (c: Change<HoldState>) => void): Machine<HoldState>;
export declare function createLinkMachine(onChange?: (c: Change<LinkState>) => void): Machine<LinkState>;
