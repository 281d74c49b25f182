// Types for callerid.js (used by the TypeScript unit tests; the browser loads the .js).
export interface CallerId { number: string; displayName: string }
export declare function splitHeaderValues(value: string): string[];
export declare function numberOfUri(uri: string): string;
export declare function parseNameAddr(value: string): { displayName: string; number: string; uri: string } | null;
export declare function callerIdOf(headers: { from?: string; pai?: string }): CallerId;
export declare function callerLabel(id: CallerId): string;
export declare function cancelOutcome(reasonHeader: string | undefined): { outcome: 'answered-elsewhere' | 'missed'; text: string };
