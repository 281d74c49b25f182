// The registrar's location store: bindings per user, in memory (RFC 3261 §10.3).
import type { SipUri } from '../sip/message/types.js';
import type { Flow } from '../sip/transport/types.js';

export interface Binding {
  user: string;
  /** The Contact URI as registered. */
  contact: SipUri;
  /** Formatted Contact URI, as listed back in the 200. */
  contactText: string;
  /** The flow the REGISTER arrived on: requests to a browser go back over it (RFC 7118 §5). */
  flow: Flow;
  /** Absolute expiry, milliseconds on the store's clock. */
  expiresAt: number;
  callId: string;
  cseq: number;
}

/** §19.1.4 URI comparison, reduced to what decides "the same contact": scheme, user (case-sensitive),
 *  host (case-insensitive), port and transport. */
export function contactKey(uri: SipUri): string {
  const transport = (uri.params.transport ?? 'udp').toLowerCase();
  return `${uri.scheme.toLowerCase()}:${uri.user ?? ''}@${uri.host.toLowerCase()}:${uri.port ?? ''};${transport}`;
}

/** Flows whose death ends their bindings: a WebSocket client cannot be reached once its socket closed. */
function diesWithFlow(flow: Flow): boolean {
  return flow.transport === 'ws' || flow.transport === 'wss';
}

export class BindingStore {
  private readonly byUser = new Map<string, Map<string, Binding>>();
  private readonly flowWatch = new Map<string, () => void>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Current (unexpired) bindings of a user. */
  list(user: string): Binding[] {
    const map = this.byUser.get(user);
    if (!map) return [];
    const now = this.now();
    for (const [key, b] of map) if (b.expiresAt <= now) map.delete(key);
    if (map.size === 0) this.byUser.delete(user);
    return [...map.values()];
  }

  get(user: string, contact: SipUri): Binding | undefined {
    return this.list(user).find((b) => contactKey(b.contact) === contactKey(contact));
  }

  put(binding: Binding): void {
    let map = this.byUser.get(binding.user);
    if (!map) this.byUser.set(binding.user, (map = new Map()));
    map.set(contactKey(binding.contact), binding);
    this.watch(binding.flow);
  }

  remove(user: string, contact: SipUri): void {
    const map = this.byUser.get(user);
    map?.delete(contactKey(contact));
    if (map?.size === 0) this.byUser.delete(user);
  }

  removeAll(user: string): void {
    this.byUser.delete(user);
  }

  /** Number of live bindings over all users. */
  count(): number {
    let n = 0;
    for (const user of [...this.byUser.keys()]) n += this.list(user).length;
    return n;
  }

  close(): void {
    for (const off of this.flowWatch.values()) off();
    this.flowWatch.clear();
    this.byUser.clear();
  }

  private watch(flow: Flow): void {
    if (!diesWithFlow(flow) || this.flowWatch.has(flow.id)) return;
    if (!flow.alive) return this.dropFlow(flow.id);
    this.flowWatch.set(flow.id, flow.onClose(() => this.dropFlow(flow.id)));
  }

  private dropFlow(flowId: string): void {
    this.flowWatch.get(flowId)?.();
    this.flowWatch.delete(flowId);
    for (const [user, map] of this.byUser) {
      for (const [key, b] of map) if (b.flow.id === flowId) map.delete(key);
      if (map.size === 0) this.byUser.delete(user);
    }
  }
}
