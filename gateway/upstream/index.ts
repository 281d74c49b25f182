// Registering upstream (issue 3): the gateway registers to trunks (trunks[].register) and, while a user
// is registered here, registers that user's own PBX account (users[].upstream) so calls to the account
// ring the user and the user's calls can go out through that PBX.
import type { GatewayConfig, TrunkConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { formatUri, parseUri } from '../sip/message/index.js';
import type { SipRequest } from '../sip/message/types.js';
import type { TransactionLayer } from '../sip/transaction/types.js';
import type { Flow, SipTransport, Target } from '../sip/transport/types.js';
import { accountAor, RegisterClient, type RegisterClientOptions } from './register-client.js';
import type { RegState } from './states.js';
import type { BackoffPolicy } from './timing.js';
import { UserAccounts } from './accounts.js';
import { TrunkKeepalive, type KeepaliveState, type KeepaliveStatus } from './keepalive.js';
import { newContactToken } from './token.js';

export { RegisterClient, accountAor, type RegisterClientOptions, type RegisterStatus } from './register-client.js';
export { newContactToken } from './token.js';
export { TrunkKeepalive, KEEPALIVE_MACHINE, type KeepaliveOptions, type KeepaliveState, type KeepaliveStatus } from './keepalive.js';
export { regTransition, IllegalTransition, type RegState } from './states.js';

/** What this module needs from the registrar: who is registered, and being told when that changes. */
export interface UpstreamRegistrar {
  /** Fires with the user's name and their current number of bindings. Returns an unsubscribe function. */
  onChange(listener: (user: string, count: number) => void): () => void;
  lookup(user: string): readonly unknown[];
}

export interface UpstreamDeps {
  config: GatewayConfig;
  transport: Pick<SipTransport, 'localAddress'>;
  transactions: Pick<TransactionLayer, 'sendRequest'>;
  registrar: UpstreamRegistrar;
  logger: Logger;
  /** Test hooks. */
  resolve?: RegisterClientOptions['resolve'];
  backoff?: BackoffPolicy;
}

export interface UpstreamOutbound {
  target: Target;
  requestUriHost: string;
  fromUri: string;
  credentials: { username: string; password: string };
}

/** One configured trunk: its registration (state, expiresAt, lastError: only with register: true) and its
 *  OPTIONS keep-alive (absent with keepalive: false). */
export interface TrunkStatus {
  name: string;
  state?: RegState;
  expiresAt?: string;
  lastError?: string;
  keepalive?: KeepaliveStatus;
}

export interface AccountRegistrationStatus {
  user: string;
  account: string;
  state: RegState;
  lastError?: string;
}

export interface Upstream {
  start(): void;
  /** An INVITE sent to one of our user-account Contacts by that account's registrar → the user. */
  matchInbound(req: SipRequest, flow: Flow): { user: UserConfig } | undefined;
  /** Is the Request-URI one of our trunk registrations' Contacts? A provider that delivers calls to the
   *  registered Contact puts our token there, and the dialled number (the DID) in To. */
  isTrunkContact(req: SipRequest): boolean;
  /** Where a user with `upstream` sends outbound calls, and as whom. */
  outboundFor(user: UserConfig): UpstreamOutbound | undefined;
  status(): { trunks: TrunkStatus[]; upstream: AccountRegistrationStatus[] };
  /** A trunk's OPTIONS keep-alive state (undefined: keepalive false); failover skips a 'down' trunk. */
  trunkState?(name: string): KeepaliveState | undefined;
  /** Unregisters everything (each unregister waits at most a few seconds). */
  close(): Promise<void>;
}


function trunkClient(deps: UpstreamDeps, trunk: TrunkConfig): RegisterClient {
  return new RegisterClient({
    registrar: trunk.uri,
    username: trunk.username!,
    password: trunk.password!,
    expires: trunk.registerExpires,
    contactUser: newContactToken(),
    transport: deps.transport,
    transactions: deps.transactions,
    logger: deps.logger.child({ trunk: trunk.name }),
    resolve: deps.resolve,
    backoff: deps.backoff,
  });
}

function trunkKeepalive(deps: UpstreamDeps, trunk: TrunkConfig): TrunkKeepalive | undefined {
  if (trunk.keepalive === false) return undefined;
  return new TrunkKeepalive({
    name: trunk.name,
    uri: trunk.uri,
    intervalS: trunk.keepalive.interval,
    failures: trunk.keepalive.failures,
    fromUser: trunk.username,
    transport: deps.transport,
    transactions: deps.transactions,
    logger: deps.logger.child({ trunk: trunk.name }),
    resolve: deps.resolve,
  });
}

function requestUser(req: SipRequest): string | undefined {
  try {
    return parseUri(req.uri).user;
  } catch {
    return undefined;
  }
}

export function createUpstream(deps: UpstreamDeps): Upstream {
  const trunks = deps.config.trunks.filter((t) => t.register).map((t) => ({ name: t.name, client: trunkClient(deps, t) }));
  const probes = new Map(deps.config.trunks.map((t) => [t.name, trunkKeepalive(deps, t)] as const));
  const accounts = new UserAccounts(deps);
  let started = false;
  let closing: Promise<void> | undefined;

  return {
    start() {
      if (started || closing) return;
      started = true;
      for (const t of trunks) t.client.start();
      for (const k of probes.values()) k?.start();
      accounts.start();
    },
    matchInbound(req, flow) {
      if (req.method !== 'INVITE') return undefined;
      const token = requestUser(req);
      return token === undefined ? undefined : accounts.matchToken(token, flow.remote.address);
    },
    isTrunkContact(req) {
      const token = requestUser(req);
      return token !== undefined && trunks.some((t) => t.client.contactUser === token);
    },
    outboundFor(user) {
      const up = user.upstream;
      if (!up) return undefined;
      const target = accounts.targetFor(user.name);
      if (!target) return undefined;
      const aor = accountAor(up.registrar, up.username, up.domain);
      return { target, requestUriHost: aor.host, fromUri: formatUri(aor), credentials: { username: up.username, password: up.password } };
    },
    trunkState: (name) => probes.get(name)?.state,
    status() {
      return {
        trunks: deps.config.trunks.map((t): TrunkStatus => {
          const registration = trunks.find((r) => r.name === t.name)?.client.status();
          const keepalive = probes.get(t.name)?.status();
          return { name: t.name, ...registration, ...(keepalive && { keepalive }) };
        }),
        upstream: accounts.status(),
      };
    },
    close() {
      for (const k of probes.values()) k?.stop();
      closing ??= Promise.all([...trunks.map((t) => t.client.stop()), accounts.close()]).then(() => undefined);
      return closing;
    },
  };
}
