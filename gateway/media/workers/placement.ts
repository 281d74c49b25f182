// Which media worker holds a call key (pure): a key is placed at its first offer/echo and stays on that
// worker until delete. Keys that may be spliced together (a call's forks and transfer legs; the calls of
// one user, which an attended transfer joins) name the same placement group; a group is bound to the
// worker of its first key while any key of it lives (refcounted). Without a bound group: the least-loaded
// worker (live keys), skipping workers whose admission refuses new calls while another one admits.

export interface PlacementHints {
  /** Affinity groups, in order of precedence: the first group already bound decides the worker, and every
   *  group named is then bound to it (if not already bound elsewhere). */
  groups?: readonly string[];
}

interface Placed {
  worker: number;
  groups: string[];
}

export class Placement {
  private readonly keys = new Map<string, Placed>();
  private readonly groups = new Map<string, { worker: number; refs: number }>();
  private readonly counts: number[];

  constructor(workers: number) {
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
    const bound = named.map((g) => this.groups.get(g)).find((g) => g !== undefined);
    const worker = bound ? bound.worker : this.leastLoaded(admitting);
    const held: string[] = [];
    for (const name of named) {
      const group = this.groups.get(name);
      if (group && group.worker !== worker) continue; // bound elsewhere: this key cannot follow it
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
