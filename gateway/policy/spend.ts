// The spend alarm: answered calls cost dialRules.costPerMinute[class] per minute; the spend within a
// sliding hour is summed per user and in total (a running call counts up to now). A sum that reaches
// dialRules.spendAlarm.userPerHour / totalPerHour raises the alarm once — a warn line in a fixed format
// and a counter — and again only after it went back under the limit. An alarm, never a refusal.
import type { Logger } from '../log.js';

const HOUR_MS = 3_600_000;

export interface SpendAlarmConfig {
  userPerHour?: number;
  totalPerHour?: number;
}

interface Entry {
  user: string;
  cls: string;
  perMinute: number;
  from: number;
  to?: number;
}

/** What the spend meter counts (exported in the status object). */
export interface SpendCounters {
  /** Alarms raised so far: per user, total. */
  alarms: { user: number; total: number };
}

/** Spend and minutes within [since, now] of `entries`, and the class costing most. */
function sum(entries: Iterable<Entry>, since: number, now: number): { cost: number; minutes: number; top: string } {
  let cost = 0;
  let minutes = 0;
  const byClass = new Map<string, number>();
  for (const e of entries) {
    const m = Math.max(0, Math.min(e.to ?? now, now) - Math.max(e.from, since)) / 60_000;
    minutes += m;
    cost += m * e.perMinute;
    byClass.set(e.cls, (byClass.get(e.cls) ?? 0) + m * e.perMinute);
  }
  const top = [...byClass].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '-';
  return { cost, minutes, top };
}

export class SpendMeter {
  private readonly entries = new Set<Entry>();
  private readonly alarmed = new Set<string>();
  private totalAlarmed = false;
  readonly counters: SpendCounters = { alarms: { user: 0, total: 0 } };

  constructor(
    private readonly config: SpendAlarmConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** An answered call of `user` in class `cls` starts costing `perMinute`; the returned function stops it. */
  start(user: string, cls: string, perMinute: number): () => void {
    if (perMinute <= 0) return () => undefined;
    const entry: Entry = { user, cls, perMinute, from: this.now() };
    this.entries.add(entry);
    return () => {
      if (entry.to !== undefined) return;
      entry.to = this.now();
      this.evaluate();
    };
  }

  /** Whether any call is costing now (the periodic evaluation is only needed then). */
  get running(): boolean {
    for (const e of this.entries) if (e.to === undefined) return true;
    return false;
  }

  /** Spend within the last hour, in total and per user (rounded to cents). */
  lastHour(): { total: number; users: Record<string, number> } {
    const { since, now } = this.window();
    const users: Record<string, number> = {};
    for (const [user, list] of this.byUser()) users[user] = round(sum(list, since, now).cost);
    return { total: round(sum(this.entries, since, now).cost), users };
  }

  /** Drops entries that ended over an hour ago, then checks every user and the total against the limits. */
  evaluate(): void {
    const { since, now } = this.window();
    for (const e of this.entries) if (e.to !== undefined && e.to <= since) this.entries.delete(e);
    const { userPerHour, totalPerHour } = this.config;
    if (userPerHour !== undefined) {
      const users = this.byUser();
      for (const user of this.alarmed) if (!users.has(user)) this.alarmed.delete(user);
      for (const [user, list] of users) {
        const s = sum(list, since, now);
        if (s.cost < userPerHour) this.alarmed.delete(user);
        else if (!this.alarmed.has(user)) {
          this.alarmed.add(user);
          this.counters.alarms.user++;
          this.log.warn(`spend alarm: scope=user user=${user} class=${s.top} minutes=${s.minutes.toFixed(1)} cost=${s.cost.toFixed(2)} limit=${userPerHour}`);
        }
      }
    }
    if (totalPerHour !== undefined) {
      const s = sum(this.entries, since, now);
      if (s.cost < totalPerHour) this.totalAlarmed = false;
      else if (!this.totalAlarmed) {
        this.totalAlarmed = true;
        this.counters.alarms.total++;
        this.log.warn(`spend alarm: scope=total class=${s.top} minutes=${s.minutes.toFixed(1)} cost=${s.cost.toFixed(2)} limit=${totalPerHour}`);
      }
    }
  }

  private window(): { since: number; now: number } {
    const now = this.now();
    return { since: now - HOUR_MS, now };
  }

  private byUser(): Map<string, Entry[]> {
    const users = new Map<string, Entry[]>();
    for (const e of this.entries) {
      const list = users.get(e.user) ?? [];
      list.push(e);
      users.set(e.user, list);
    }
    return users;
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;
