// Types for reasons.js (used by the TypeScript unit tests; the browser loads the .js).
export declare function statusReason(code: number, phrase?: string): string;
export declare const END_REASONS: Readonly<{
  localHangup: string;
  remoteHangup: string;
  cancelled: string;
  declined: string;
  mediaFailed: string;
  transportLost: string;
  connectionLost: string;
}>;
export declare function formatDuration(ms: number): string;
export declare function normaliseTarget(input: string): string;
export declare function registrationLabel(state: string, reason: string, aor: string): string;
export declare function callLabel(
  state: string,
  reason: string,
  peer: string,
  detail?: { hold: string; remoteHold: boolean; link: string },
): string;
export declare function errorText(err: unknown): string;
