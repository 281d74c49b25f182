// Authentication failures as the transaction layer sees them: a request that carried credentials for our
// realm and was answered 401/407 without stale=true failed (registrar and call layer alike, whatever the
// method). A request from a locked source, or for a locked user, has its credentials taken off before the
// TU sees it, so it gets exactly the challenge a wrong password gets — no oracle (RFC 3261 §22.4 lets a
// server challenge any request again). Sits between the transaction layer and the TU, which it does not know.
import { computeDigestResponse, normalizeAlgorithm, parseCredentials, storedHa1, type DigestCredentials, type UserSecret } from '../sip/auth/index.js';
import { getHeaderValues } from '../sip/message/index.js';
import type { SipRequest, SipResponse } from '../sip/message/types.js';
import type { ServerTransaction, TransactionLayer } from '../sip/transaction/types.js';
import { credentialsFor } from '../sip/ua/credentials.js';
import { sourceIp, type AuthFailure, type SecurityGuard } from './guard.js';

export interface AuthWatchDeps {
  guard: SecurityGuard;
  realm: string;
  lookup: (user: string) => UserSecret | undefined;
}

const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization'];

function credentialsOf(req: SipRequest, realm: string): DigestCredentials | undefined {
  const value = credentialsFor(req, realm, 'Authorization') ?? credentialsFor(req, realm, 'Proxy-Authorization');
  if (value === undefined) return undefined;
  try {
    return parseCredentials(value);
  } catch {
    return undefined; // malformed credentials are not an attempt at a password
  }
}

/** Why verification failed, for the log only (the answer is the same for all): the response was right for
 *  the stored secret → the nonce (expired ones are answered stale and never get here), else a wrong password. */
function reasonOf(c: DigestCredentials, method: string, secret: UserSecret | undefined): AuthFailure['reason'] {
  if (secret === undefined) return 'unknown-user';
  const algorithm = normalizeAlgorithm(c.algorithm);
  const ha1 = algorithm && storedHa1(secret, algorithm);
  if (!algorithm || (typeof secret !== 'string' && ha1 === undefined) || c.qop !== 'auth' || !c.nc || !c.cnonce) return 'wrong-password';
  const expected = computeDigestResponse({
    algorithm, username: c.username, realm: c.realm, ...(ha1 !== undefined ? { ha1 } : { password: secret as string }),
    method, uri: c.uri, nonce: c.nonce, qop: 'auth', nc: c.nc, cnonce: c.cnonce,
  });
  return expected === c.response.toLowerCase() ? 'bad-nonce' : 'wrong-password';
}

function isChallengeFailure(res: SipResponse): boolean {
  if (res.status !== 401 && res.status !== 407) return false;
  const challenges = getHeaderValues(res, res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate');
  // RFC 7616 §3.3: stale=true — the credentials were right, only the nonce was old: not a failure.
  return !challenges.some((c) => /\bstale\s*=\s*"?true/i.test(c));
}

type Respond = (response: SipResponse) => void;

/** Calls `onFinal` with the first final response sent on `tx`, by any of its respond methods. */
function onFinalResponse(tx: ServerTransaction, onFinal: (res: SipResponse) => void): void {
  const methods = tx as unknown as Record<string, Respond | undefined>;
  let seen = false;
  for (const name of ['respond', 'respondStatelessly']) {
    const original = methods[name];
    if (typeof original !== 'function') continue;
    methods[name] = (res: SipResponse) => {
      if (!seen && res.status >= 200) {
        seen = true;
        onFinal(res);
      }
      original.call(tx, res);
    };
  }
}

function watch(d: AuthWatchDeps, req: SipRequest, tx: ServerTransaction): void {
  const c = credentialsOf(req, d.realm);
  if (!c) return;
  const source = sourceIp(tx.flow.remote.address);
  const secret = d.lookup(c.username);
  if (d.guard.authLocked(source, secret === undefined ? undefined : c.username)) {
    req.headers = req.headers.filter((h) => !CREDENTIAL_HEADERS.includes(h.name.toLowerCase()));
    d.guard.authFailed({ user: c.username, source, method: req.method, reason: 'locked' }, secret !== undefined);
    return;
  }
  onFinalResponse(tx, (res) => {
    if (!isChallengeFailure(res)) return;
    d.guard.authFailed({ user: c.username, source, method: req.method, reason: reasonOf(c, req.method, secret) }, secret !== undefined);
  });
}

/** The transaction layer as the TU should see it: every new request passes the lockout first. */
export function watchAuthentication(layer: TransactionLayer, d: AuthWatchDeps): TransactionLayer {
  const onRequest: TransactionLayer['onRequest'] = (handler) => {
    layer.onRequest((req, tx, matchingInvite) => {
      // ACK and CANCEL are never challenged (RFC 3261 §22.1); their credentials are not checked here.
      if (req.method !== 'CANCEL') watch(d, req, tx);
      handler(req, tx, matchingInvite);
    });
  };
  // Everything else is the layer's own, called on the layer itself.
  return new Proxy(layer, {
    get(target, prop) {
      if (prop === 'onRequest') return onRequest;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
