// Types for words.js (used by the TypeScript unit tests; the browser loads the .js).
export declare function personName(peer: string): string;
export declare function isUserPeer(peer: string): boolean;
export declare function endWords(reason: string, peer: string, status?: { code: number; phrase?: string } | null): { text: string; detail: string };
export declare function shortEndWords(reason: string, peer: string): string;
export declare function bannerWords(s: { state: string; reason: string; reconnecting: boolean; online?: boolean }): {
  level: 'ok' | 'warn' | 'error';
  text: string;
};
