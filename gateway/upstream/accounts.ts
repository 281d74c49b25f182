// Users' own PBX accounts (users[].upstream): a registration there exists exactly while the user has at
// least one binding at our registrar. One slot per account; at most one client registers it at a time
// (a new one starts only after the previous one's unregister finished, so a late Expires: 0 never
// removes the fresh binding).
import { isIP } from 'node:net';
import type { UserConfig } from '../config/schema.js';
import { formatUri, parseUri } from '../sip/message/index.js';
import type { Target } from '../sip/transport/types.js';
import { resolveTarget, transportOf } from '../sip/ua/target.js';
import type { AccountRegistrationStatus, UpstreamDeps } from './index.js';
import { newContactToken } from './token.js';
import { accountAor, RegisterClient } from './register-client.js';

interface Slot {
  user: UserConfig & { upstream: NonNullable<UserConfig['upstream']> };
  /** Our Contact user part for this account, stable for the gateway's lifetime. */
  token: string;
  /** The registrar reports the user registered here. */
  wanted: boolean;
  client?: RegisterClient;
  /** The previous client, while its unregister is in flight. */
  leaving?: RegisterClient;
  /** The account registrar's address (RFC 3263 resolution of upstream.registrar). */
  target?: Target;
}

/** An IP-literal registrar URI resolves without DNS: usable before any lookup finished. */
function literalTarget(registrar: string): Target | undefined {
  try {
    const uri = parseUri(registrar);
    const host = (uri.params.maddr ?? uri.host).replace(/^\[(.*)\]$/, '$1');
    if (!isIP(host)) return undefined;
    const transport = transportOf(uri);
    const port = uri.port ?? (transport === 'tls' || transport === 'wss' ? 5061 : 5060);
    return { address: host, port, transport };
  } catch {
    return undefined;
  }
}

export class UserAccounts {
  private readonly slots = new Map<string, Slot>();
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly deps: UpstreamDeps) {
    for (const user of deps.config.users) {
      if (!user.upstream) continue;
      const slot: Slot = { user: user as Slot['user'], token: newContactToken(), wanted: false };
      slot.target = literalTarget(user.upstream.registrar);
      this.slots.set(user.name, slot);
    }
  }

  start(): void {
    if (this.closed || this.unsubscribe) return;
    this.unsubscribe = this.deps.registrar.onChange((user, count) => this.want(user, count > 0));
    for (const slot of this.slots.values()) {
      if (!slot.target) void this.resolve(slot);
      this.want(slot.user.name, this.deps.registrar.lookup(slot.user.name).length > 0);
    }
  }

  private async resolve(slot: Slot): Promise<void> {
    try {
      slot.target = await (this.deps.resolve ?? resolveTarget)(parseUri(slot.user.upstream.registrar));
    } catch (err) {
      this.deps.logger.warn({ user: slot.user.name, err: (err as Error).message }, 'cannot resolve the upstream registrar');
    }
  }

  private want(user: string, wanted: boolean): void {
    const slot = this.slots.get(user);
    if (!slot) return;
    slot.wanted = wanted;
    this.reconcile(slot);
  }

  private reconcile(slot: Slot): void {
    if (this.closed) return;
    if (slot.wanted && !slot.client && !slot.leaving) {
      slot.client = this.newClient(slot);
      slot.client.start();
    } else if (!slot.wanted && slot.client) {
      const leaving = slot.client;
      slot.client = undefined;
      slot.leaving = leaving;
      void leaving.stop().then(() => {
        slot.leaving = undefined;
        this.reconcile(slot);
      });
    }
  }

  private newClient(slot: Slot): RegisterClient {
    const up = slot.user.upstream;
    return new RegisterClient({
      registrar: up.registrar,
      username: up.username,
      password: up.password,
      domain: up.domain,
      expires: up.expires,
      contactUser: slot.token,
      transport: this.deps.transport,
      transactions: this.deps.transactions,
      logger: this.deps.logger.child({ user: slot.user.name, account: up.username }),
      resolve: this.deps.resolve,
      backoff: this.deps.backoff,
    });
  }

  /** The user whose account Contact carries `token`, if `source` is that account's registrar. */
  matchToken(token: string, source: string): { user: UserConfig } | undefined {
    for (const slot of this.slots.values()) {
      if (slot.token !== token) continue;
      const registrar = slot.target ?? slot.client?.resolved;
      return registrar !== undefined && registrar.address === source ? { user: slot.user } : undefined;
    }
    return undefined;
  }

  targetFor(user: string): Target | undefined {
    const slot = this.slots.get(user);
    return slot?.target ?? slot?.client?.resolved;
  }

  status(): AccountRegistrationStatus[] {
    return [...this.slots.values()].map((slot) => {
      const up = slot.user.upstream;
      const c = slot.client ?? slot.leaving;
      const s = c?.status();
      const row: AccountRegistrationStatus = {
        user: slot.user.name,
        account: formatUri(accountAor(up.registrar, up.username, up.domain)),
        state: s?.state ?? 'idle',
      };
      if (s?.lastError !== undefined) row.lastError = s.lastError;
      return row;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    const stops: Promise<void>[] = [];
    for (const slot of this.slots.values()) {
      if (slot.client) stops.push(slot.client.stop());
      if (slot.leaving) stops.push(slot.leaving.stop());
    }
    await Promise.all(stops);
  }
}
