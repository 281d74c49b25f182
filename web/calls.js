// The page's calls (several lines): which calls are up, which one the user works with (the current
// one), whether a new incoming call may ring (call waiting) or is answered 486, and what each call shows.
// Pure module (no DOM, no sip.js): a line is anything with { id, peer, direction, call, control } where
// call is a Machine<CallState> and control a CallControl or null. Unit-tested (test/unit/web/calls.test.ts).
// Other page modules (web/transfer.js) read the calls through CallList and callViews().
import { controlState } from './call-control.js';
import { callLabel } from './reasons.js';

/** How many calls the page holds at once (the active one, held ones, one waiting). */
export const MAX_LINES = 4;

/** RFC 3261 §21.4.24: 486 Busy Here — "the callee's end system was contacted successfully, but the
 *  callee is currently not willing or able to take additional calls at this end system". */
export const BUSY_HERE = Object.freeze({ statusCode: 486, reasonPhrase: 'Busy Here' });

/** @typedef {{ id: number, peer: string, direction: 'in' | 'out', call: { state: string, reason: string }, control: any }} LineLike */
/** @typedef {{ id: number, peer: string, direction: 'in' | 'out', state: string, hold: string, current: boolean, waiting: boolean, label: string }} CallView */

/** A call that is not over. @param {LineLike} l */
export const isLive = (l) => l.call.state !== 'ended' && l.call.state !== 'idle';
/** An established call that we hold (or are putting on hold). @param {LineLike} l */
export const isHeld = (l) => l.call.state === 'in-call' && ['held', 'holding'].includes(controlState(l.control).hold);
/** An established call that we do not hold: its audio is on. @param {LineLike} l */
export const isActive = (l) => l.call.state === 'in-call' && !isHeld(l);
/** An incoming call that rings (not yet answered or declined). @param {LineLike} l */
export const isRinging = (l) => l.call.state === 'incoming';

/**
 * What the page answers to a new INVITE given the calls it has: ring (waiting when another call is up)
 * or 486 (do-not-disturb, a call already ringing here, or MAX_LINES calls).
 * @param {readonly LineLike[]} lines @param {{ dnd: boolean, maxLines?: number }} opts
 * @returns {{ take: true, waiting: boolean } | { take: false, why: 'dnd' | 'ringing' | 'limit' }}
 */
export function incomingVerdict(lines, opts) {
  const live = lines.filter(isLive);
  if (opts.dnd) return { take: false, why: 'dnd' };
  if (live.some(isRinging)) return { take: false, why: 'ringing' };
  if (live.length >= (opts.maxLines ?? MAX_LINES)) return { take: false, why: 'limit' };
  return { take: true, waiting: live.length > 0 };
}

/**
 * Which call becomes the current one when the current one ended: the newest established call (active
 * before held), else a call being set up, else a ringing one; undefined when none is left.
 * @template {LineLike} L @param {readonly L[]} lines newest last
 */
export function nextCurrent(lines) {
  const live = lines.filter(isLive).reverse();
  return live.find(isActive) ?? live.find(isHeld) ?? live.find((l) => l.call.state !== 'incoming') ?? live[0];
}

/**
 * The held call that Swap resumes: the newest held call other than `current`.
 * @template {LineLike} L @param {readonly L[]} lines @param {L | undefined} current
 */
export function swapTarget(lines, current) {
  return [...lines].reverse().find((l) => l !== current && isLive(l) && isHeld(l));
}

/**
 * The tone the page plays: the full ring for an incoming call when nothing else is up; a short waiting
 * tone when it rings while another call is up (call waiting); nothing otherwise.
 * @param {readonly LineLike[]} lines @returns {'ring' | 'waiting' | 'none'}
 */
export function toneFor(lines) {
  const live = lines.filter(isLive);
  if (!live.some(isRinging)) return 'none';
  return live.some((l) => !isRinging(l)) ? 'waiting' : 'ring';
}

/**
 * What the calls list shows of each call, in the order the calls came.
 * @param {readonly LineLike[]} lines @param {LineLike | undefined} current
 * @returns {Array<{ id: number, peer: string, direction: 'in' | 'out', state: string, hold: string,
 *                   current: boolean, waiting: boolean, label: string }>}
 */
export function callViews(lines, current) {
  const live = lines.filter(isLive);
  const others = (/** @type {LineLike} */ l) => live.some((o) => o !== l && !isRinging(o));
  return live.map((l) => {
    const detail = controlState(l.control);
    const waiting = isRinging(l) && others(l);
    return {
      id: l.id,
      peer: l.peer,
      direction: l.direction,
      state: l.call.state,
      hold: detail.hold,
      current: l === current,
      waiting,
      label: waiting ? `Call waiting: ${l.peer}` : callLabel(l.call.state, l.call.reason, l.peer, detail),
    };
  });
}

/**
 * The page's calls, oldest first, and the current one (whose audio plays and whose buttons the main
 * controls are). An ended current call stays current until another call takes its place, so the page
 * still shows how it ended.
 * @template {LineLike} L
 */
export class CallList {
  constructor() {
    /** @type {L[]} */ this.lines = [];
    /** @type {L | undefined} */ this.current = undefined;
  }

  /** @param {L} line */
  add(line) {
    this.lines.push(line);
  }

  /** Drops an ended call; if it was current, the next one (nextCurrent) becomes current. @param {L} line */
  remove(line) {
    this.lines = this.lines.filter((l) => l !== line);
    if (this.current === line) this.current = nextCurrent(this.lines) ?? line;
  }

  /** @param {number} id */
  get(id) {
    return this.lines.find((l) => l.id === id);
  }

  /** The calls that are not over, oldest first. */
  live() {
    return this.lines.filter(isLive);
  }

  /** The incoming call that rings (at most one, incomingVerdict). */
  ringing() {
    return this.lines.find((l) => isLive(l) && isRinging(l));
  }

  views() {
    return callViews(this.lines, this.current);
  }
}
