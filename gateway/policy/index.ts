// Call-level policy (issue 8 item 4, and item 6's maximum duration): which destination classes a user may
// dial, concurrent calls and calls per hour per user and per trunk, emergency calls (always allowed, never
// limited, routed to dialRules.emergency.trunk when set), the maximum duration of an answered call and the
// spend alarm. Decides, counts and logs; the call layer (gateway/call) asks it and acts on the answer.
// Never imported by gateway/sip.
import { EMERGENCY_CLASS, type DialRulesConfig } from '../config/dial-rules.js';
import type { GatewayConfig, TrunkConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { normalizeDialled, type RouteResult } from '../routing/index.js';
import { createClassifier, userRules, type Classifier, type UserRules } from './classes.js';
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
  return new Policy(config, logger, now);
}

class Policy implements CallPolicy {
  private rules: DialRulesConfig;
  private classifier: Classifier;
  private readonly users: LimitCounter;
  private readonly trunks: LimitCounter;
  private readonly spend: SpendMeter;
  private readonly counters = { refused: refusals(), emergencyCalls: 0, maxDurationEnded: 0 };
  private readonly tracked = new WeakMap<PolicyCall, Tracked>();
  /** Tickets a call took (track): settle() leaves them to the call's end. */
  private readonly taken = new WeakSet<Ticket>();
  private rulesOf: Map<string, UserRules>;
  private emergencyTrunk: TrunkConfig | undefined;
  /** The users and trunks lists the rules were derived from (a reload replaces them: config/live.ts). */
  private derivedFrom: readonly unknown[];
  private readonly spendTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: GatewayConfig,
    private readonly logger: Logger,
    now: () => number,
  ) {
    const rules = (this.rules = config.dialRules);
    this.classifier = createClassifier(rules);
    this.users = new LimitCounter(now);
    this.trunks = new LimitCounter(now);
    this.spend = new SpendMeter(rules.spendAlarm, logger, now);
    this.rulesOf = new Map(config.users.map((u) => [u.name, userRules(u, rules)]));
    this.emergencyTrunk = config.trunks.find((t) => t.name === rules.emergency.trunk);
    this.derivedFrom = [config.dialRules, config.users, config.trunks];
    const alarmed = rules.spendAlarm.userPerHour !== undefined || rules.spendAlarm.totalPerHour !== undefined;
    this.spendTimer = alarmed ? setInterval(() => this.spend.running && this.spend.evaluate(), SPEND_CHECK_MS) : undefined;
    this.spendTimer?.unref();
  }

  check(user: UserConfig, number: string): Verdict {
    this.follow();
    const n = normalizeDialled(number);
    const cls = this.classifier.classify(n);
    if (this.ruleOf(user).classes.has(cls)) return { ok: true, class: cls };
    return this.refuse('classes', { user: user.name, number: n, class: cls });
  }

  route(r: RouteResult): RouteResult {
    this.follow();
    const trunk = this.emergencyTrunk;
    if (!trunk || r.kind === 'user' || r.kind === 'echo' || this.classifier.classify(r.number) !== EMERGENCY_CLASS) return r;
    // A route entry of its own: the emergency trunk alone, the number as dialled.
    return { kind: 'trunk', trunk, route: { match: '', trunk: trunk.name }, number: r.number };
  }

  admit(user: UserConfig, r: RouteResult): { ok: true; ticket: Ticket } | Refusal {
    const internal = r.kind === 'user' || r.kind === 'echo';
    const verdict: Verdict = internal ? { ok: true, class: INTERNAL } : this.check(user, r.number);
    if (!verdict.ok) return verdict;
    const emergency = verdict.class === EMERGENCY_CLASS;
    // Internal calls hold a slot (media ports) but are not toll calls: they do not count per hour.
    const take = this.users.take(user.name, this.ruleOf(user), { force: emergency, hourly: !internal });
    if (!take.ok) return this.refuse(take.limit, { user: user.name, number: r.number, class: verdict.class }, take.value);
    if (emergency) {
      this.counters.emergencyCalls++;
      this.logger.warn(`emergency call: user=${user.name} number=${encodeNumber(r.number)}`);
    }
    const lease = take.lease;
    const ticket: Ticket = { user: user.name, number: r.number, class: verdict.class, emergency, release: () => lease.release(), get released() { return lease.released; } };
    return { ok: true, ticket };
  }

  acquireUser(user: UserConfig): Lease | undefined {
    const take = this.users.take(user.name, this.ruleOf(user));
    return take.ok ? take.lease : undefined;
  }

  acquireTrunk(trunk: TrunkConfig, opts: { force?: boolean; inbound?: boolean } = {}): Lease | undefined {
    const take = this.trunks.take(trunk.name, trunk, { force: opts.force || opts.inbound, hourly: !opts.inbound });
    return take.ok ? take.lease : undefined;
  }

  track(call: PolicyCall, ticket?: Ticket): void {
    const t = this.record(call);
    if (ticket && t.ticket !== ticket) {
      t.ticket?.release();
      t.ticket = ticket;
      this.taken.add(ticket);
    }
    if (call.ended) this.finish(t);
  }

  settle(ticket: Ticket): void {
    if (!this.taken.has(ticket)) ticket.release();
  }

  takeTrunk(call: PolicyCall, trunk: TrunkConfig): { status: number; reason: string } | undefined {
    const t = this.record(call);
    t.trunk?.release();
    t.trunk = undefined;
    const take = this.trunks.take(trunk.name, trunk, { force: t.ticket?.emergency });
    if (take.ok) {
      t.trunk = take.lease;
      if (call.ended) take.lease.release();
      return undefined;
    }
    const rule = take.limit === 'maxCalls' ? 'trunks.maxCalls' : 'trunks.callsPerHour';
    const fields = { user: t.ticket?.user ?? '-', number: t.ticket?.number ?? '', class: t.ticket?.class ?? '-', trunk: trunk.name };
    const r = this.refuse(rule, fields, take.value);
    return { status: r.status, reason: r.reason };
  }

  inbound(call: PolicyCall, trunk: TrunkConfig): void {
    const t = this.record(call);
    t.trunk?.release();
    t.trunk = this.acquireTrunk(trunk, { inbound: true });
    if (call.ended) t.trunk?.release();
  }

  isEmergency(call: PolicyCall): boolean {
    return this.tracked.get(call)?.ticket?.emergency === true;
  }

  status(): PolicyStatus {
    return {
      refused: { ...this.counters.refused },
      emergencyCalls: this.counters.emergencyCalls,
      maxDurationEnded: this.counters.maxDurationEnded,
      spendAlarms: { ...this.spend.counters.alarms },
      spendLastHour: this.spend.lastHour(),
      active: { users: this.users.snapshot(), trunks: this.trunks.snapshot() },
    };
  }

  close(): void {
    clearInterval(this.spendTimer);
  }

  /** After a config reload (the live view's lists are new objects): classes, per-user rules and the
   *  emergency trunk derived again. Calls up keep their leases; the spend alarm keeps its limits. */
  private follow(): void {
    const c = this.config;
    if (c.dialRules === this.derivedFrom[0] && c.users === this.derivedFrom[1] && c.trunks === this.derivedFrom[2]) return;
    const rules = (this.rules = c.dialRules);
    this.classifier = createClassifier(rules);
    this.rulesOf = new Map(c.users.map((u) => [u.name, userRules(u, rules)]));
    this.emergencyTrunk = c.trunks.find((t) => t.name === rules.emergency.trunk);
    this.derivedFrom = [c.dialRules, c.users, c.trunks];
  }

  private ruleOf(user: UserConfig): UserRules {
    this.follow();
    return this.rulesOf.get(user.name) ?? userRules(user, this.rules);
  }

  private refuse(rule: Rule, fields: { user: string; number: string; class: string; trunk?: string }, limit?: number): Refusal {
    const refusal = refusalLine(rule, fields, limit);
    this.counters.refused[rule]++;
    this.logger.warn(refusal.line);
    return refusal.refusal;
  }

  /** The call's record, made (and subscribed to the call's state) on first use. */
  private record(call: PolicyCall): Tracked {
    const known = this.tracked.get(call);
    if (known) return known;
    const t: Tracked = {};
    this.tracked.set(call, t);
    const unsubscribe = call.onChange((change) => {
      if (change.to === 'answered') this.answered(call, t);
      if (change.to === 'ended') {
        unsubscribe();
        this.finish(t);
      }
    });
    if (call.ended) this.finish(t);
    return t;
  }

  /** Answered: the maximum duration and the spend run from now. */
  private answered(call: PolicyCall, t: Tracked): void {
    const seconds = this.config.calls.maxDuration;
    if (seconds > 0) {
      t.timer = setTimeout(() => {
        if (call.ended) return;
        this.counters.maxDurationEnded++;
        this.logger.info(`max call duration reached: user=${t.ticket?.user ?? '-'} seconds=${seconds}`);
        // Like a media timeout (call/liveness.ts): BYE on both legs with the Reason.
        call.end({ status: 408, reason: 'Request Timeout' }, REASON_MAX_DURATION);
      }, seconds * 1000);
    }
    const cls = t.ticket?.class;
    if (cls !== undefined && cls !== INTERNAL) t.stopSpend = this.spend.start(t.ticket!.user, cls, this.rules.costPerMinute[cls] ?? 0);
  }

  /** Ended: every slot back, the timer off, the spend closed. Idempotent (leases are). */
  private finish(t: Tracked): void {
    clearTimeout(t.timer);
    t.ticket?.release();
    t.trunk?.release();
    t.stopSpend?.();
    t.stopSpend = undefined;
  }
}
