// Types for challenge.js (used by the TypeScript unit tests; the browser loads the .js).
export declare function preferMd5Challenge(raw: string): string;
export declare function installChallengeShim(ua: unknown): void;
