// Metrics read at scrape time from what the SIP service reports (/api/status): registrations by
// transport, each trunk's keep-alive and registration state and call counters (failover board), and
// the call policy's counters. Counters copied from a running total only ever grow.
import { Counter, Gauge, type Registry } from 'prom-client';

/** What the collectors read (the SIP service's status and registrations). */
export interface StatusSource {
  status(): Record<string, unknown>;
  registrationsByTransport?(): Record<string, number>;
}

interface TrunkView {
  name: string;
  state?: string;
  keepalive?: { state?: string };
  health?: string;
  calls?: Record<string, number>;
}

interface PolicyView {
  refused?: Record<string, number>;
  emergencyCalls?: number;
  maxDurationEnded?: number;
  spendAlarms?: Record<string, number>;
}

const KEEPALIVE_STATES = ['unknown', 'up', 'down'] as const;
const TRUNK_OUTCOMES = ['attempts', 'answered', 'failovers', 'failed', 'skippedDown', 'skippedLimit'] as const;
const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/\./g, '_');

/** A counter that mirrors a running total (inc by the growth since the last scrape). */
function mirror(c: Counter<string>, seen: Map<string, number>, labels: Record<string, string>, total: number | undefined): void {
  if (typeof total !== 'number') return;
  const key = JSON.stringify(labels);
  const d = total - (seen.get(key) ?? 0);
  if (d > 0) (c.inc(labels, d), seen.set(key, total));
}

export function statusMetrics(registry: Registry, source: () => StatusSource | undefined, trunkNames: ReadonlySet<string>): void {
  const registers = [registry];
  const view = (): { trunks: TrunkView[]; policy: PolicyView } => {
    const s = source()?.status() ?? {};
    return { trunks: ((s.trunks as TrunkView[] | undefined) ?? []).filter((t) => trunkNames.has(t.name)), policy: (s.policy as PolicyView | undefined) ?? {} };
  };
  new Gauge({
    name: 'webphone_registrations', help: 'Registered contacts, by the transport they registered over', labelNames: ['transport'], registers,
    collect() {
      this.reset();
      for (const [transport, n] of Object.entries(source()?.registrationsByTransport?.() ?? {})) this.set({ transport }, n);
    },
  });
  new Gauge({
    name: 'webphone_trunk_up', help: "Trunk keep-alive (OPTIONS) state: 1 for the trunk's current state (unknown, up, down); absent without keep-alive", labelNames: ['trunk', 'state'], registers,
    collect() {
      this.reset();
      for (const t of view().trunks) {
        const state = t.keepalive?.state;
        if (state) for (const s of KEEPALIVE_STATES) this.set({ trunk: t.name, state: s }, s === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'webphone_trunk_registered', help: 'Trunks with register: true: 1 while registered', labelNames: ['trunk'], registers,
    collect() {
      this.reset();
      for (const t of view().trunks) if (t.state) this.set({ trunk: t.name }, t.state === 'registered' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'webphone_trunk_calls_active', help: 'Calls in progress through each trunk', labelNames: ['trunk'], registers,
    collect() {
      this.reset();
      for (const t of view().trunks) this.set({ trunk: t.name }, t.calls?.current ?? 0);
    },
  });
  const trunkSeen = new Map<string, number>();
  new Counter({
    name: 'webphone_trunk_attempts_total', help: 'Call attempts per trunk by outcome: attempts, answered, failovers, failed, skipped_down, skipped_limit', labelNames: ['trunk', 'outcome'], registers,
    collect() {
      for (const t of view().trunks) for (const o of TRUNK_OUTCOMES) mirror(this, trunkSeen, { trunk: t.name, outcome: snake(o) }, t.calls?.[o]);
    },
  });
  policyMetrics(registry, () => view().policy);
}

function policyMetrics(registry: Registry, policy: () => PolicyView): void {
  const registers = [registry];
  const seen = new Map<string, number>();
  new Counter({
    name: 'webphone_policy_refusals_total', help: 'Calls refused by the dial rules, by rule', labelNames: ['rule'], registers,
    collect() {
      for (const [rule, n] of Object.entries(policy().refused ?? {})) mirror(this, seen, { rule: snake(rule) }, n);
    },
  });
  new Counter({
    name: 'webphone_policy_spend_alarms_total', help: 'Spend alarms raised, per user or for the total', labelNames: ['scope'], registers,
    collect() {
      for (const [scope, n] of Object.entries(policy().spendAlarms ?? {})) mirror(this, seen, { scope }, n);
    },
  });
  new Counter({
    name: 'webphone_policy_emergency_calls_total', help: 'Emergency calls', registers,
    collect() {
      mirror(this, seen, {}, policy().emergencyCalls);
    },
  });
  new Counter({
    name: 'webphone_policy_max_duration_ended_total', help: 'Calls ended at calls.maxDuration', registers,
    collect() {
      mirror(this, seen, {}, policy().maxDurationEnded);
    },
  });
}
