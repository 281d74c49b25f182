// The registrar's location store: bindings per user, in memory (RFC 3261 §10.3), with an expiry timer,
// WebSocket flow death (RFC 7118 §5 / RFC 5626) and change events.
import type { Logger } from '../log.js';
import type { SipUri } from '../sip/message/types.js';
import type { Flow, TransportKind } from '../sip/transport/types.js';
import type { Binding, ChangeListener } from './types.js';

/** §19.1.4 URI comparison, reduced to what decides "the same contact": scheme, user (case-sensitive),
 *  host (case-insensitive), port and transport. */
export function contactKey(uri: SipUri): string {
  const transport = (uri.params.transport ?? 'udp').toLowerCase();
  return `${uri.scheme.toLowerCase()}:${uri.user ?? ''}@${uri.host.toLowerCase()}:${uri.port ?? ''};${transport}`;
}

/** WebSocket bindings live only as long as their connection: a browser cannot be reached otherwise. */
export function isWebSocket(transport: TransportKind): boolean {
  return transport === 'ws' || transport === 'wss';
}

/** A WS binding whose socket already closed is gone. */
function reachable(b: Binding): boolean {
  return !isWebSocket(b.transport) || (b.flow !== undefined && b.flow.alive);
}

/** setTimeout's limit (2^31-1 ms): a later expiry is re-armed when the timer fires. */
const MAX_DELAY = 0x7fffffff;

/** The earliest expiry of a list of bindings (Infinity when empty). */
function earliestOf(list: readonly Binding[]): number {
  let at = Infinity;
  for (const b of list) if (b.expiresAt < at) at = b.expiresAt;
  return at;
}

/** A binary min-heap of (time, user) with lazy deletion: an entry is current only while `due` still maps
 *  its user to its time. A REGISTER costs O(log n) instead of a scan of every binding; stale entries are
 *  dropped when they surface, and the heap is rebuilt from `due` when they outnumber the live ones. */
class ExpiryQueue {
  private heap: { at: number; user: string }[] = [];
  readonly due = new Map<string, number>();

  set(user: string, at: number): void {
    if (this.due.get(user) === at) return;
    if (at === Infinity) {
      this.due.delete(user);
      return;
    }
    this.due.set(user, at);
    this.push({ at, user });
    if (this.heap.length > 2 * this.due.size + 1024) this.rebuild();
  }

  /** The earliest current time (Infinity when none), dropping stale entries on the way. */
  peek(): number {
    for (;;) {
      const top = this.heap[0];
      if (!top) return Infinity;
      if (this.due.get(top.user) === top.at) return top.at;
      this.pop();
    }
  }

  /** Users whose earliest binding expires at or before `now` (their entries leave the queue). */
  takeDue(now: number): string[] {
    const users: string[] = [];
    while (this.peek() <= now) {
      const { user } = this.pop()!;
      this.due.delete(user);
      users.push(user);
    }
    return users;
  }

  clear(): void {
    this.heap = [];
    this.due.clear();
  }

  private rebuild(): void {
    this.heap = [];
    for (const [user, at] of this.due) this.push({ at, user });
  }

  private push(e: { at: number; user: string }): void {
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= h[i]!.at) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  private pop(): { at: number; user: string } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < h[m]!.at) m = l;
        if (r < h.length && h[r]!.at < h[m]!.at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

export interface BindingStoreOptions {
  now?: () => number;
  logger?: Logger;
  /** Called after any change of any binding (add, refresh, remove), e.g. to persist. */
  onMutate?: () => void;
}

export class BindingStore {
  private readonly byUser = new Map<string, Binding[]>();
  private readonly flowWatch = new Map<string, () => void>();
  /** Users with a WebSocket binding on each watched flow (a closing flow touches only them). */
  private readonly flowUsers = new Map<string, Set<string>>();
  private readonly expiries = new ExpiryQueue();
  private readonly listeners = new Set<ChangeListener>();
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private closed = false;

  constructor(private readonly opts: BindingStoreOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  /** Current (unexpired, reachable) bindings of a user. */
  list(user: string): Binding[] {
    this.sweep(user);
    return [...(this.byUser.get(user) ?? [])];
  }

  /** Every user with at least one binding. */
  users(): string[] {
    this.sweepAll();
    return [...this.byUser.keys()];
  }

  /** Every current binding. */
  all(): Binding[] {
    return this.users().flatMap((u) => this.byUser.get(u) ?? []);
  }

  count(user?: string): number {
    if (user !== undefined) return this.list(user).length;
    return this.users().reduce((n, u) => n + (this.byUser.get(u)?.length ?? 0), 0);
  }

  /** Replace the bindings of a user (the outcome of one REGISTER); expired/unreachable ones are dropped. */
  replace(user: string, bindings: Binding[]): void {
    if (this.closed) return;
    const before = this.byUser.get(user)?.length ?? 0;
    const now = this.now();
    const kept = bindings.filter((b) => b.user === user && b.expiresAt > now && reachable(b));
    if (kept.length > 0) this.byUser.set(user, kept);
    else this.byUser.delete(user);
    for (const b of kept) if (b.flow && isWebSocket(b.transport)) this.watch(b.flow, user);
    this.changed([[user, before]]);
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Stop the timer and flow watches; forget everything. Emits nothing. */
  close(): void {
    this.closed = true;
    for (const off of this.flowWatch.values()) off();
    this.flowWatch.clear();
    this.flowUsers.clear();
    this.expiries.clear();
    this.byUser.clear();
    this.listeners.clear();
    this.arm(Infinity);
  }

  /** Drop expired bindings of every user and re-arm the timer: called by the timer itself. */
  sweepAll(): void {
    for (const user of [...this.byUser.keys()]) this.sweep(user);
  }

  private sweep(user: string, requeue = false): void {
    const list = this.byUser.get(user);
    if (!list) return;
    const now = this.now();
    const kept = list.filter((b) => b.expiresAt > now && reachable(b));
    if (kept.length === list.length) {
      if (requeue) this.expiries.set(user, earliestOf(list));
      return;
    }
    if (kept.length > 0) this.byUser.set(user, kept);
    else this.byUser.delete(user);
    this.changed([[user, list.length]]);
  }

  private watch(flow: Flow, user: string): void {
    let users = this.flowUsers.get(flow.id);
    if (!users) this.flowUsers.set(flow.id, (users = new Set()));
    users.add(user);
    if (this.flowWatch.has(flow.id)) return;
    this.flowWatch.set(flow.id, flow.onClose(() => this.dropFlow(flow.id)));
  }

  /** RFC 7118 §5: the binding "dies with its connection" — every binding registered over the flow goes. */
  private dropFlow(flowId: string): void {
    this.flowWatch.get(flowId)?.();
    this.flowWatch.delete(flowId);
    const users = this.flowUsers.get(flowId) ?? new Set<string>();
    this.flowUsers.delete(flowId);
    if (this.closed) return;
    const touched: [string, number][] = [];
    for (const user of users) {
      const list = this.byUser.get(user);
      if (!list) continue;
      const kept = list.filter((b) => !(isWebSocket(b.transport) && b.flow?.id === flowId));
      if (kept.length === list.length) continue;
      touched.push([user, list.length]);
      if (kept.length > 0) this.byUser.set(user, kept);
      else this.byUser.delete(user);
    }
    if (touched.length > 0) this.changed(touched);
  }

  /** After a mutation: persist, re-arm the expiry timer, emit count changes. */
  private changed(touched: [user: string, before: number][]): void {
    this.opts.onMutate?.();
    for (const [user] of touched) this.expiries.set(user, earliestOf(this.byUser.get(user) ?? []));
    this.arm(this.expiries.peek());
    for (const [user, before] of touched) {
      const after = this.byUser.get(user)?.length ?? 0;
      if (after !== before) this.emit(user, after);
    }
  }

  private emit(user: string, count: number): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(user, count);
      } catch (err) {
        this.opts.logger?.error({ err: (err as Error).message, user }, 'registrar change listener threw');
      }
    }
  }

  /** One timer, set for the earliest expiry (expiry is not only lazy: listeners learn of it on time). */
  private arm(at: number): void {
    if (at === this.timerAt && this.timer !== undefined) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity || this.closed) return;
    const delay = Math.min(MAX_DELAY, Math.max(0, at - this.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      // Only the users with a binding due: their sweep re-queues their next expiry.
      for (const user of this.expiries.takeDue(this.now())) this.sweep(user, true);
      this.arm(this.expiries.peek());
    }, delay);
    this.timer.unref?.();
  }
}
