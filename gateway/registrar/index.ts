// The registrar (RFC 3261 §10.3): digest-authenticated REGISTER over WS/WSS/UDP/TCP, several contacts
// per user, an expiry timer, WebSocket bindings tied to their connection (RFC 7118 §5, RFC 5626), UDP/TCP
// bindings kept across restarts in config.registrar.store.
//
// API for the call layer and the upstream-registration layer:
//
//   const registrar = createRegistrar({ config, digest, logger, now?, store?, maxContacts?, storeDelayMs? });
//   registrar.handle(req, tx)        answer a REGISTER (never throws; bad input → 4xx with a reason)
//   registrar.lookup(user)           ContactRoute[]: how to send a request to each current contact:
//     { user, contact: SipUri, contactText, flow?: Flow, target?: Target, webrtc, instance?, expiresAt }
//     - WS/WSS contact (browser): webrtc = true, flow = the very WebSocket that registered it (send the
//       INVITE on it; it never has a target). The contact disappears when that socket closes.
//     - UDP contact (SIP phone): webrtc = false, target = the REGISTER's source address (NAT-safe).
//     - TCP/TLS contact: flow while the connection that registered it is alive; target = source IP with
//       the contact's port as a fallback.
//     The Request-URI of a request to the contact is `contactText`.
//   registrar.onChange((user, count) => …)   fires when a user's contact count changes (REGISTER, Expires 0,
//     "*", expiry timer, WebSocket closed); returns an unsubscribe function. Bindings loaded from the
//     store at start are there before any listener: read count(user) / users() for the initial state.
//   registrar.count(user?)           contacts of one user, or of all users (gateway status "registrations")
//   registrar.users()                users with at least one contact
//   registrar.bindings(user)         the raw Binding records
//   registrar.close()                flush the store file, stop timers; emits no change events; idempotent
import type { Logger } from '../log.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import { buildReply } from '../sip/ua/uas.js';
import { BindingStore } from './bindings.js';
import { createRegisterHandler } from './handler.js';
import { loadBindings, StoreWriter } from './persist.js';
import { routeOf } from './route.js';
import type { Registrar, RegistrarDeps } from './types.js';

export { BindingStore, contactKey } from './bindings.js';
export { loadBindings, serializeBindings } from './persist.js';
export type { Binding, ChangeListener, ContactRoute, Registrar, RegistrarDeps } from './types.js';

export const DEFAULT_MAX_CONTACTS = 20;

export function createRegistrar(deps: RegistrarDeps): Registrar {
  const now = deps.now ?? Date.now;
  const file = deps.store === false ? undefined : (deps.store ?? deps.config.registrar.store);
  let writer: StoreWriter | undefined;
  const store = new BindingStore({ now, logger: deps.logger, onMutate: () => writer?.schedule() });
  if (file !== undefined) {
    const users = new Set(deps.config.users.map((u) => u.name));
    // A user removed from the config since the last run has no bindings any more.
    restore(store, loadBindings(file, now(), deps.logger).filter((b) => users.has(b.user)));
    writer = new StoreWriter(file, () => store.all(), deps.logger, deps.storeDelayMs);
  }
  const handler = createRegisterHandler({
    config: deps.config, digest: deps.digest, logger: deps.logger, store, now, maxContacts: deps.maxContacts ?? DEFAULT_MAX_CONTACTS,
  });
  let closed = false;

  return {
    handle(req, tx) {
      try {
        handler(req, tx);
      } catch (err) {
        safeReject(deps.logger, tx, err);
      }
    },
    lookup: (user) => store.list(user).map(routeOf),
    bindings: (user) => store.list(user),
    onChange: (listener) => store.onChange(listener),
    count: (user) => store.count(user),
    users: () => store.users(),
    close() {
      if (closed) return;
      closed = true;
      writer?.flush();
      store.close();
    },
  };
}

function restore(store: BindingStore, loaded: ReturnType<typeof loadBindings>): void {
  const byUser = new Map<string, typeof loaded>();
  for (const b of loaded) byUser.set(b.user, [...(byUser.get(b.user) ?? []), b]);
  for (const [user, bindings] of byUser) store.replace(user, bindings);
}

/** A header the parser let through but we cannot use: 400 naming it (if the transaction can still answer). */
function safeReject(logger: Logger, tx: ServerTransaction, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  logger.warn({ err: message }, 'bad REGISTER');
  try {
    if (tx.state === 'trying' || tx.state === 'proceeding') {
      tx.respond(buildReply(tx.request, 400, `Bad Request: ${message}`.slice(0, 120)));
    }
  } catch (again) {
    logger.error({ err: (again as Error).message }, 'cannot answer a bad REGISTER');
  }
}
