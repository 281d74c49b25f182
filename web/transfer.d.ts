// Types for transfer.js (used by the TypeScript unit tests; the browser loads the .js).
export interface TransferStatus {
  state: 'trying' | 'done' | 'failed';
  text: string;
  code: number;
}
export declare function sipfragStatus(body: unknown): { code: number; reason: string } | null;
export declare function transferText(code: number, reason: string): string;
export declare class Transferor {
  constructor(
    phone: { lines: { current?: unknown; get(id: number): unknown; live(): unknown[] }; domain: string },
    opts: { onChange(): void; makeUri(text: string): unknown },
  );
  readonly status: Map<number, TransferStatus>;
  targets(id?: number): any[];
  blind(input: string, id?: number): Promise<{ ok: boolean; text: string }>;
  attended(otherId: number, id?: number): Promise<{ ok: boolean; text: string }>;
}
