// Types for reconnect.js (used by the TypeScript unit tests; the browser loads the .js).
export declare function reconnectDelayMs(attempt: number): number;
