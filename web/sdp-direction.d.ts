// Types for sdp-direction.js (used by the TypeScript unit tests; the browser loads the .js).
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export interface MediaDirection { media: string; port: number; direction: Direction; address: string }
export declare class SdpParseError extends Error {
  constructor(message: string);
}
export declare function mediaDirections(sdp: string): MediaDirection[];
export declare function isRemoteHold(sdp: string): boolean;
