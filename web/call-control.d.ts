// Types for call-control.js (used by the TypeScript unit tests; the browser loads the .js).
import type { HoldState, LinkState, Machine } from './state.js';
export declare const AUDIO_ONLY: Readonly<{ constraints: { audio: boolean; video: boolean } }>;
export declare function glareDelayMs(callIdOwner: boolean, random?: () => number): number;
export interface ControlState { hold: HoldState; remoteHold: boolean; link: LinkState; message: string }
export declare class CallControl {
  constructor(
    session: unknown,
    opts: { callIdOwner: boolean; recoveryMs: number; onChange: () => void; onLost: (why: string) => void; random?: () => number },
  );
  readonly hold: Machine<HoldState>;
  readonly link: Machine<LinkState>;
  readonly remoteHold: boolean;
  readonly message: string;
  readonly ended: boolean;
  readonly recovering: boolean;
  setHold(on: boolean): Promise<void>;
  restartIce(): Promise<boolean>;
  transportLost(): void;
  transportBack(): Promise<boolean>;
  remoteOffer(sdp: string): void;
  dispose(): void;
}
export declare function controlState(c: CallControl | null): ControlState;
export declare function dropWebSocket(ua: unknown): boolean;
export declare function addRollback(sdh: unknown): void;
