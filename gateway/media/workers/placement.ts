// Which media worker holds a call key (pure): a key is placed at its first offer/echo and stays on that
// worker until delete. Keys that may be spliced together name the same placement group; a group is bound to
// the worker of its first key while any key of it lives (refcounted). A request's first group (its call:
// forks and transfer legs, which a splice joins) always binds; later ones (its users: an attended transfer
// joins two calls of one user) attract only while they hold fewer than softLimit keys, so that one user with
// many calls (a PBX user, a load test) still spreads over the workers. Without a bound group: the
// least-loaded worker (live keys), skipping workers whose admission refuses new calls while another admits.

export interface PlacementHints {
  /** Affinity groups: the first binds; of the others, the first bound one under softLimit keys decides the
   *  worker. Every group named is then bound to it (if not already bound elsewhere, or full). */
  groups?: readonly string[];
}

/** Keys a later (soft) group may hold and still attract new keys. */
export const SOFT_GROUP_LIMIT = 16;

interface Placed {
  worker: number;
  groups: string[];
}

export class Placement {
  private readonly keys = new Map<string, Placed>();
  private readonly groups = new Map<string, { worker: number; refs: number }>();
  private readonly counts: number[];

  constructor(
    workers: number,
    private readonly softLimit = SOFT_GROUP_LIMIT,
  ) {
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`placement needs at least one worker, got ${workers}`);
    this.counts = new Array<number>(workers).fill(0);
  }

  /** The worker of a placed key. */
  workerOf(key: string): number | undefined {
    return this.keys.get(key)?.worker;
  }

  /** Live keys per worker. */
  calls(worker: number): number {
    return this.counts[worker] ?? 0;
  }

  /** The worker of `key`, placing it first when new. `admitting(w)` false: that worker refuses new calls. */
  place(key: string, hints: PlacementHints = {}, admitting: (worker: number) => boolean = () => true): { worker: number; placed: boolean } {
    const known = this.keys.get(key);
    if (known) return { worker: known.worker, placed: false };
    const named = [...new Set(hints.groups ?? [])];
    const worker = this.boundWorker(named) ?? this.leastLoaded(admitting);
    const held: string[] = [];
    for (const [i, name] of named.entries()) {
      const group = this.groups.get(name);
      if (group && (group.worker !== worker || (i > 0 && group.refs >= this.softLimit))) continue;
      if (group) group.refs++;
      else this.groups.set(name, { worker, refs: 1 });
      held.push(name);
    }
    this.keys.set(key, { worker, groups: held });
    this.counts[worker]!++;
    return { worker, placed: true };
  }

  /** Forget a key (delete, a failed first offer, its worker gone); its groups lose a reference. */
  free(key: string): void {
    const placed = this.keys.get(key);
    if (!placed) return;
    this.keys.delete(key);
    this.counts[placed.worker]!--;
    for (const name of placed.groups) {
      const group = this.groups.get(name)!;
      if (--group.refs === 0) this.groups.delete(name);
    }
  }

  /** The keys on `worker` (a worker that exited: its calls are reported and forgotten). */
  keysOf(worker: number): string[] {
    return [...this.keys].filter(([, p]) => p.worker === worker).map(([key]) => key);
  }

  /** The worker the groups name: the first group's, else the first bound later group's with room. */
  private boundWorker(named: readonly string[]): number | undefined {
    const [first, ...later] = named.map((name) => this.groups.get(name));
    if (first) return first.worker;
    return later.find((g) => g !== undefined && g.refs < this.softLimit)?.worker;
  }

  private leastLoaded(admitting: (worker: number) => boolean): number {
    let best = -1;
    let fallback = 0;
    for (let w = 0; w < this.counts.length; w++) {
      if (this.counts[w]! < this.counts[fallback]!) fallback = w;
      if (admitting(w) && (best < 0 || this.counts[w]! < this.counts[best]!)) best = w;
    }
    return best >= 0 ? best : fallback; // none admits: the least loaded refuses with 'overloaded' itself
  }
}
