// Call-level policy (issue 8 item 4, and item 6's maximum duration): which destination classes a user may
// dial, concurrent calls and calls per hour per user and per trunk, emergency calls (always allowed, never
// limited, routed to dialRules.emergency.trunk when set), the maximum duration of an answered call and the
// spend alarm. Decides, counts and logs; the call layer (gateway/call) asks it and acts on the answer.
// Never imported by gateway/sip.
import { EMERGENCY_CLASS } from '../config/dial-rules.js';
import type { GatewayConfig, TrunkConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { normalizeDialled, type RouteResult } from '../routing/index.js';
import { createClassifier, userRules, type UserRules } from './classes.js';
import { LimitCounter, type Lease } from './limits.js';
import { encodeNumber, refusalLine, refusals, type Refusal, type RefusalCounters, type Rule } from './refusals.js';
import { SpendMeter } from './spend.js';

export type { Lease } from './limits.js';
export { encodeNumber, type Refusal } from './refusals.js';

/** RFC 3326 Reason of the BYEs that end a call at calls.maxDuration: Q.850 cause 102, "recovery on timer
 *  expiry", the text naming the timer. */
export const REASON_MAX_DURATION = 'Q.850;cause=102;text="Maximum call duration"';

/** How often running calls' spend is checked against the alarm (ms). */
const SPEND_CHECK_MS = 10_000;

export type Verdict = { ok: true; class: string } | Refusal;

/** A user's admitted call: its class and the user's slot (released when the call ends). */
export interface Ticket extends Lease {
  readonly user: string;
  readonly number: string;
  /** The destination class, or "internal" (another user, the echo line). */
  readonly class: string;
  readonly emergency: boolean;
}

/** What the policy needs of a call: its state changes and ending it (gateway/call/call.ts Call). */
export interface PolicyCall {
  readonly ended: boolean;
  onChange(listener: (change: { to: string }) => void): () => void;
  end(final?: { status: number; reason: string }, reason?: string): void;
}

export interface PolicyStatus {
  refused: RefusalCounters;
  emergencyCalls: number;
  maxDurationEnded: number;
  spendAlarms: { user: number; total: number };
  /** Spend of the last hour (dialRules.costPerMinute), total and per user. */
  spendLastHour: { total: number; users: Record<string, number> };
  active: { users: Record<string, number>; trunks: Record<string, number> };
}

export interface CallPolicy {
  /** The class of `number` and whether `user` may dial it (limits not looked at). */
  check(user: UserConfig, number: string): Verdict;
  /** An emergency number goes to dialRules.emergency.trunk when set, whatever the routes say. */
  route(r: RouteResult): RouteResult;
  /** The whole decision for a user's call: class (not for internal calls) and the user's limits. */
  admit(user: UserConfig, r: RouteResult): { ok: true; ticket: Ticket } | Refusal;
  /** A slot of `user` (undefined: at maxCalls or callsPerHour). */
  acquireUser(user: UserConfig): Lease | undefined;
  /** A slot on `trunk` (undefined: at its maxCalls or callsPerHour). `force`: taken whatever the limits
   *  (emergency calls; `inbound`: a call from the trunk, counted toward maxCalls only). */
  acquireTrunk(trunk: TrunkConfig, opts?: { force?: boolean; inbound?: boolean }): Lease | undefined;
  /** Follows `call`: its ticket and trunk slot are released when it ends, the maximum duration and the
   *  spend run from its answer. Idempotent per call. */
  track(call: PolicyCall, ticket?: Ticket): void;
  /** Releases `ticket` unless a call took it (track): after the dispatcher started (or did not) the call. */
  settle(ticket: Ticket): void;
  /** The trunk slot of `call`'s attempt on `trunk` (a previous attempt's slot is released): undefined, or
   *  the final response for the caller when the trunk is at a limit (logged, counted). */
  takeTrunk(call: PolicyCall, trunk: TrunkConfig): { status: number; reason: string } | undefined;
  /** A call coming in from `trunk` holds one of its slots (never refused). */
  inbound(call: PolicyCall, trunk: TrunkConfig): void;
  /** Whether `call` was admitted as an emergency call. */
  isEmergency(call: PolicyCall): boolean;
  status(): PolicyStatus;
  close(): void;
}

interface Tracked {
  ticket?: Ticket;
  trunk?: Lease;
  timer?: NodeJS.Timeout;
  stopSpend?: () => void;
}

const INTERNAL = 'internal';

export function createCallPolicy(config: GatewayConfig, logger: Logger, now: () => number = Date.now): CallPolicy {
  const rules = config.dialRules;
  const classifier = createClassifier(rules);
  const users = new LimitCounter(now);
  const trunks = new LimitCounter(now);
  const spend = new SpendMeter(rules.spendAlarm, logger, now);
  const counters = { refused: refusals(), emergencyCalls: 0, maxDurationEnded: 0 };
  const tracked = new WeakMap<PolicyCall, Tracked>();
  const rulesOf = new Map<string, UserRules>(config.users.map((u) => [u.name, userRules(u, rules)]));
  const emergencyTrunk = config.trunks.find((t) => t.name === rules.emergency.trunk);
  const alarmed = rules.spendAlarm.userPerHour !== undefined || rules.spendAlarm.totalPerHour !== undefined;
  const spendTimer = alarmed ? setInterval(() => spend.running && spend.evaluate(), SPEND_CHECK_MS) : undefined;
  spendTimer?.unref();

  const ruleOf = (user: UserConfig): UserRules => rulesOf.get(user.name) ?? userRules(user, rules);

  function refuse(rule: Rule, fields: { user: string; number: string; class: string; trunk?: string }, limit?: number): Refusal {
    const refusal = refusalLine(rule, fields, limit);
    counters.refused[rule]++;
    logger.warn(refusal.line);
    return refusal.refusal;
  }

  function check(user: UserConfig, number: string): Verdict {
    const n = normalizeDialled(number);
    const cls = classifier.classify(n);
    if (ruleOf(user).classes.has(cls)) return { ok: true, class: cls };
    return refuse('classes', { user: user.name, number: n, class: cls });
  }

  function ticketFor(user: UserConfig, number: string, cls: string, lease: Lease): Ticket {
    return { user: user.name, number, class: cls, emergency: cls === EMERGENCY_CLASS, release: () => lease.release(), get released() { return lease.released; } };
  }

  /** Tickets a call took (track): settle() leaves them to the call's end. */
  const taken = new WeakSet<Ticket>();

  function admit(user: UserConfig, r: RouteResult): { ok: true; ticket: Ticket } | Refusal {
    const internal = r.kind === 'user' || r.kind === 'echo';
    const verdict: Verdict = internal ? { ok: true, class: INTERNAL } : check(user, r.number);
    if (!verdict.ok) return verdict;
    const emergency = verdict.class === EMERGENCY_CLASS;
    const limits = ruleOf(user);
    // Internal calls hold a slot (media ports) but are not toll calls: they do not count per hour.
    const take = users.take(user.name, limits, { force: emergency, hourly: !internal });
    if (!take.ok) return refuse(take.limit, { user: user.name, number: r.number, class: verdict.class }, take.value);
    if (emergency) {
      counters.emergencyCalls++;
      logger.warn(`emergency call: user=${user.name} number=${encodeNumber(r.number)}`);
    }
    return { ok: true, ticket: ticketFor(user, r.number, verdict.class, take.lease) };
  }

  function acquireTrunk(trunk: TrunkConfig, opts: { force?: boolean; inbound?: boolean } = {}): Lease | undefined {
    const take = trunks.take(trunk.name, trunk, { force: opts.force || opts.inbound, hourly: !opts.inbound });
    return take.ok ? take.lease : undefined;
  }

  function record(call: PolicyCall): Tracked {
    let t = tracked.get(call);
    if (t) return t;
    const entry: Tracked = {};
    t = entry;
    tracked.set(call, entry);
    const unsubscribe = call.onChange((change) => {
      if (change.to === 'answered') answered(call, entry);
      if (change.to === 'ended') {
        unsubscribe();
        finish(entry);
      }
    });
    if (call.ended) finish(entry);
    return entry;
  }

  function answered(call: PolicyCall, t: Tracked): void {
    const seconds = config.calls.maxDuration;
    if (seconds > 0) {
      t.timer = setTimeout(() => {
        if (call.ended) return;
        counters.maxDurationEnded++;
        logger.info(`max call duration reached: user=${t.ticket?.user ?? '-'} seconds=${seconds}`);
        call.end({ status: 408, reason: 'Request Timeout' }, REASON_MAX_DURATION);
      }, seconds * 1000);
    }
    const cls = t.ticket?.class;
    if (cls !== undefined && cls !== INTERNAL) t.stopSpend = spend.start(t.ticket!.user, cls, rules.costPerMinute[cls] ?? 0);
  }

  function finish(t: Tracked): void {
    clearTimeout(t.timer);
    t.ticket?.release();
    t.trunk?.release();
    t.stopSpend?.();
  }

  return {
    check,
    admit,
    route(r) {
      if (!emergencyTrunk || r.kind === 'user' || r.kind === 'echo' || classifier.classify(r.number) !== EMERGENCY_CLASS) return r;
      // A route entry of its own: the emergency trunk alone, the number as dialled.
      return { kind: 'trunk', trunk: emergencyTrunk, route: { match: '', trunk: emergencyTrunk.name }, number: r.number };
    },
    acquireUser(user) {
      const take = users.take(user.name, ruleOf(user));
      return take.ok ? take.lease : undefined;
    },
    acquireTrunk,
    track(call, ticket) {
      const t = record(call);
      if (ticket && t.ticket !== ticket) {
        t.ticket?.release();
        t.ticket = ticket;
        taken.add(ticket);
      }
      if (call.ended) finish(t);
    },
    settle(ticket) {
      if (!taken.has(ticket)) ticket.release();
    },
    takeTrunk(call, trunk) {
      const t = record(call);
      t.trunk?.release();
      t.trunk = undefined;
      const take = trunks.take(trunk.name, trunk, { force: t.ticket?.emergency });
      if (take.ok) {
        t.trunk = take.lease;
        if (call.ended) take.lease.release();
        return undefined;
      }
      const rule = take.limit === 'maxCalls' ? 'trunks.maxCalls' : 'trunks.callsPerHour';
      const fields = { user: t.ticket?.user ?? '-', number: t.ticket?.number ?? '', class: t.ticket?.class ?? '-', trunk: trunk.name };
      const r = refuse(rule, fields, take.value);
      return { status: r.status, reason: r.reason };
    },
    inbound(call, trunk) {
      const t = record(call);
      t.trunk?.release();
      t.trunk = acquireTrunk(trunk, { inbound: true });
      if (call.ended) t.trunk?.release();
    },
    isEmergency: (call) => tracked.get(call)?.ticket?.emergency === true,
    status: () => ({
      refused: { ...counters.refused },
      emergencyCalls: counters.emergencyCalls,
      maxDurationEnded: counters.maxDurationEnded,
      spendAlarms: { ...spend.counters.alarms },
      spendLastHour: spend.lastHour(),
      active: { users: users.snapshot(), trunks: trunks.snapshot() },
    }),
    close() {
      clearInterval(spendTimer);
    },
  };
}
