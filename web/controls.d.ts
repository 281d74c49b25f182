// Types for controls.js (used by the TypeScript unit tests; the browser loads the .js).
export declare function pageView(callState: string, ringing: boolean): 'idle' | 'ringing' | 'in-call';
export declare function muteSenders(
  pc: { getSenders(): Array<{ track: { kind: string; enabled: boolean } | null }> } | null,
  muted: boolean,
): void;
