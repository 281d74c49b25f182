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

export interface BindingStoreOptions {
  now?: () => number;
  logger?: Logger;
  /** Called after any change of any binding (add, refresh, remove), e.g. to persist. */
  onMutate?: () => void;
}

export class BindingStore {
  private readonly byUser = new Map<string, Binding[]>();
  private readonly flowWatch = new Map<string, () => void>();
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
    for (const b of kept) if (b.flow && isWebSocket(b.transport)) this.watch(b.flow);
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
    this.byUser.clear();
    this.listeners.clear();
    this.arm(Infinity);
  }

  /** Drop expired bindings of every user and re-arm the timer: called by the timer itself. */
  sweepAll(): void {
    for (const user of [...this.byUser.keys()]) this.sweep(user);
  }

  private sweep(user: string): void {
    const list = this.byUser.get(user);
    if (!list) return;
    const now = this.now();
    const kept = list.filter((b) => b.expiresAt > now && reachable(b));
    if (kept.length === list.length) return;
    if (kept.length > 0) this.byUser.set(user, kept);
    else this.byUser.delete(user);
    this.changed([[user, list.length]]);
  }

  private watch(flow: Flow): void {
    if (this.flowWatch.has(flow.id)) return;
    this.flowWatch.set(flow.id, flow.onClose(() => this.dropFlow(flow.id)));
  }

  /** RFC 7118 §5: the binding "dies with its connection" — every binding registered over the flow goes. */
  private dropFlow(flowId: string): void {
    this.flowWatch.get(flowId)?.();
    this.flowWatch.delete(flowId);
    if (this.closed) return;
    const touched: [string, number][] = [];
    for (const [user, list] of this.byUser) {
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
    this.arm(this.earliest());
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

  private earliest(): number {
    let at = Infinity;
    for (const list of this.byUser.values()) for (const b of list) at = Math.min(at, b.expiresAt);
    return at;
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
      this.sweepAll();
      this.arm(this.earliest());
    }, delay);
    this.timer.unref?.();
  }
}
