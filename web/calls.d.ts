// Types for calls.js (used by the TypeScript unit tests and web/transfer.js's types; the browser loads the .js).
import type { CallState } from './state.js';
export interface LineLike {
  id: number;
  peer: string;
  direction: 'in' | 'out';
  call: { state: CallState | string; reason: string };
  control: unknown;
}
export interface CallView {
  id: number;
  peer: string;
  direction: 'in' | 'out';
  state: string;
  hold: string;
  current: boolean;
  waiting: boolean;
  label: string;
}
export type Verdict = { take: true; waiting: boolean } | { take: false; why: 'dnd' | 'ringing' | 'limit' };
export declare const MAX_LINES: number;
export declare const BUSY_HERE: Readonly<{ statusCode: 486; reasonPhrase: string }>;
export declare function isLive(l: LineLike): boolean;
export declare function isHeld(l: LineLike): boolean;
export declare function isActive(l: LineLike): boolean;
export declare function isRinging(l: LineLike): boolean;
export declare function incomingVerdict(lines: readonly LineLike[], opts: { dnd: boolean; maxLines?: number }): Verdict;
export declare function nextCurrent<L extends LineLike>(lines: readonly L[]): L | undefined;
export declare function swapTarget<L extends LineLike>(lines: readonly L[], current: L | undefined): L | undefined;
export declare function toneFor(lines: readonly LineLike[]): 'ring' | 'waiting' | 'none';
export declare function callViews(lines: readonly LineLike[], current: LineLike | undefined): CallView[];
export declare class CallList<L extends LineLike = LineLike> {
  lines: L[];
  current: L | undefined;
  add(line: L): void;
  remove(line: L): void;
  get(id: number): L | undefined;
  live(): L[];
  ringing(): L | undefined;
  views(): CallView[];
}
