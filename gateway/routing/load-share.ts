// The order in which a route's trunks are tried for one call. The route's list is walked in order;
// consecutive entries that carry a weight form one load-sharing group, whose members are ordered per call
// by smooth weighted round robin (the nginx upstream algorithm: every pick adds each member's weight to its
// current score, the highest score wins and loses the group's total), so over `sum of weights` calls each
// member comes first exactly `weight` times, spread evenly, deterministic and testable by counting. The
// other members of the group follow the winner (failover), by weight, then as listed.
import type { RouteTrunk } from '../config/dial-plan.js';

export interface WeightedName {
  name: string;
  weight?: number;
}

export function entryOf(t: RouteTrunk): WeightedName {
  return typeof t === 'string' ? { name: t } : t;
}

/** Consecutive weighted entries grouped; an unweighted entry is a group of its own. */
export function groupsOf(list: readonly RouteTrunk[]): WeightedName[][] {
  const groups: WeightedName[][] = [];
  for (const e of list.map(entryOf)) {
    const last = groups.at(-1);
    if (e.weight !== undefined && last?.[0]?.weight !== undefined) last.push(e);
    else groups.push([e]);
  }
  return groups;
}

/** Per route (keyed by its config object), per group: the members' current scores. */
export class LoadShare {
  private readonly scores = new WeakMap<object, number[][]>();

  /** The trunk names of `route`'s list in the order this call tries them. */
  order(route: object, list: readonly RouteTrunk[]): string[] {
    const groups = groupsOf(list);
    let state = this.scores.get(route);
    if (!state) {
      state = groups.map((g) => g.map(() => 0));
      this.scores.set(route, state);
    }
    return groups.flatMap((g, i) => (g.length === 1 ? [g[0]!.name] : this.pick(g, state![i]!)));
  }

  private pick(group: WeightedName[], score: number[]): string[] {
    const total = group.reduce((n, e) => n + (e.weight ?? 1), 0);
    group.forEach((e, i) => (score[i]! += e.weight ?? 1));
    let best = 0;
    score.forEach((s, i) => {
      if (s > score[best]!) best = i;
    });
    score[best]! -= total;
    const rest = group.filter((_, i) => i !== best).sort((a, b) => (b.weight ?? 1) - (a.weight ?? 1));
    return [group[best]!.name, ...rest.map((e) => e.name)];
  }
}
