// Types for ice-servers.js (used by the TypeScript unit tests; the browser loads the .js).
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}
export type IceServersResult =
  | { ok: true; iceServers: IceServer[]; ttl: number }
  | { ok: false; unauthorized: true }
  | { ok: false; unauthorized: false; error: string };
export declare function iceServersUrl(wsUrl: string): string;
export declare function basicAuthorization(user: string, password: string): string;
export declare function fetchIceServers(url: string, user: string, password: string): Promise<IceServersResult>;
export declare function refreshDelayMs(ttl: number): number;
export declare function sdhOptions(iceServers: IceServer[]): {
  iceGatheringTimeout: number;
  peerConnectionConfiguration: { iceServers: IceServer[] };
};
export declare class IceRefresh {
  constructor(o: { url: string; user: string; password: string; options: object; alive: () => boolean });
  start(ttl: number): void;
  stop(): void;
}
