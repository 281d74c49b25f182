// An RFC 3261 §10.2 REGISTER client: keeps one binding (our Contact) for one account at one registrar,
// refreshing it before it expires, retrying with backoff after failures, removing it on stop().
import type { Logger } from '../log.js';
import { answerChallenge, parseChallenge, pickBestChallenge } from '../sip/auth/index.js';
import { formatUri, getContacts, getExpires, newCallId, newTag, parseUri } from '../sip/message/index.js';
import type { HeaderField, NameAddr, SipRequest, SipResponse, SipUri } from '../sip/message/types.js';
import type { TransactionLayer } from '../sip/transaction/types.js';
import type { SipTransport, Target } from '../sip/transport/types.js';
import { buildRequest, localContact } from '../sip/ua/request.js';
import { resolveTarget } from '../sip/ua/target.js';
import { StateMachine, type ChangeListener } from '../lib/state-machine.js';
import { REG_MACHINE, type RegState } from './states.js';
import { DEFAULT_BACKOFF, minExpiresOf, refreshDelayMs, retryAfterSeconds, retryDelayMs, type BackoffPolicy } from './timing.js';

export interface RegisterClientOptions {
  /** The registrar's URI, e.g. "sip:pbx.example.com:5060;transport=udp". */
  registrar: string;
  username: string;
  password: string;
  /** Domain of the AOR sip:username@domain; default: the registrar URI's host. */
  domain?: string;
  /** Requested lifetime, seconds. */
  expires: number;
  /** User part of our Contact: maps requests sent to the binding back to this account. */
  contactUser: string;
  transport: Pick<SipTransport, 'localAddress'>;
  transactions: Pick<TransactionLayer, 'sendRequest'>;
  logger: Logger;
  resolve?: (uri: SipUri) => Promise<Target>;
  backoff?: BackoffPolicy;
  /** How long stop() waits for the answer to the unregister, ms (default 5000). */
  stopTimeoutMs?: number;
  now?: () => number;
}

export interface RegisterStatus {
  state: RegState;
  /** ISO time the current binding ends (while registered). */
  expiresAt?: string;
  lastError?: string;
}

/** Stale challenges answered in a row before giving up (a server that always says stale is broken). */
const MAX_STALE = 3;

/** The AOR of an account: sip:username@domain (RFC 3261 §10.2: To "contains the address of record"). */
export function accountAor(registrar: string, username: string, domain?: string): SipUri {
  const host = domain ?? parseUri(registrar).host;
  return { scheme: 'sip', user: username, host, params: {}, headers: {} };
}

export class RegisterClient {
  private readonly fsm = new StateMachine(REG_MACHINE, 'idle');
  private readonly callId = newCallId();
  private readonly fromTag = newTag();
  private readonly registrarUri: SipUri;
  private readonly aor: SipUri;
  private cseq = 0;
  private expires: number;
  private target: Target | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Only the latest REGISTER transaction speaks for this client. */
  private generation = 0;
  private failures = 0;
  private challenges = 0;
  private staleAnswers = 0;
  private grantedUntil: number | undefined;
  private error: string | undefined;
  private everSent = false;
  private stopping: Promise<void> | undefined;
  private finishStop: (() => void) | undefined;
  private readonly now: () => number;

  /** The user part of the Contact we register (a random token): requests to it are for this account. */
  get contactUser(): string {
    return this.o.contactUser;
  }

  constructor(private readonly o: RegisterClientOptions) {
    this.registrarUri = parseUri(o.registrar);
    this.aor = accountAor(o.registrar, o.username, o.domain);
    this.expires = o.expires;
    this.now = o.now ?? Date.now;
    this.fsm.onChange(({ from, to }) => o.logger.debug({ from, to }, 'registration state'));
  }

  get state(): RegState {
    return this.fsm.state;
  }

  /** The registrar's resolved address, once known. */
  get resolved(): Target | undefined {
    return this.target;
  }

  status(): RegisterStatus {
    const s: RegisterStatus = { state: this.fsm.state };
    if (this.fsm.state === 'registered' && this.grantedUntil !== undefined) s.expiresAt = new Date(this.grantedUntil).toISOString();
    if (this.error !== undefined) s.lastError = this.error;
    return s;
  }

  /** Subscribes to this registration's state changes (from, to); returns the unsubscribe function. */
  onChange(listener: ChangeListener<RegState>): () => void {
    return this.fsm.onChange(listener);
  }

  start(): void {
    if (this.fsm.state !== 'idle') return;
    this.fsm.to('registering');
    void this.attempt();
  }

  /** §10.2: "Request-URI: … The "userinfo" and "@" components of the SIP URI MUST NOT be present." */
  private requestUri(): string {
    return formatUri({ ...this.registrarUri, user: undefined, password: undefined, headers: {} });
  }

  /** A new REGISTER: same Call-ID, CSeq one higher (§10.2.4: "A UA SHOULD use the same Call-ID for all
   *  registrations during a single boot cycle"; §10.2: CSeq "MUST be incremented by one"). */
  private buildRegister(expires: number, extra: HeaderField[] = []): SipRequest | undefined {
    const target = this.target!;
    const sentBy = this.o.transport.localAddress(target.transport, target.address);
    if (!sentBy) return undefined;
    const via = { transport: target.transport, sentBy };
    const contact: NameAddr = localContact(via, this.o.contactUser);
    this.cseq += 1;
    return buildRequest({
      method: 'REGISTER',
      uri: this.requestUri(),
      from: { uri: this.aor, params: { tag: this.fromTag } },
      to: { uri: this.aor, params: {} },
      callId: this.callId,
      cseq: this.cseq,
      via,
      contact,
      // §10.2.1.1: the lifetime is suggested in the Expires header field (or a Contact expires param).
      headers: [{ name: 'Expires', value: String(expires) }, ...extra],
    });
  }

  private async attempt(): Promise<void> {
    this.challenges = 0;
    this.staleAnswers = 0;
    const gen = ++this.generation;
    try {
      this.target ??= await (this.o.resolve ?? resolveTarget)(this.registrarUri);
    } catch (err) {
      if (gen === this.generation && this.fsm.state === 'registering') this.fail(`cannot resolve registrar: ${(err as Error).message}`);
      return;
    }
    if (gen !== this.generation || this.fsm.state !== 'registering') return;
    const req = this.buildRegister(this.expires);
    if (!req) return this.fail(`no ${this.target.transport} listener for the Contact`);
    this.send(req);
  }

  private send(req: SipRequest): void {
    const gen = ++this.generation;
    const live = (): boolean => gen === this.generation;
    this.everSent = true;
    try {
      this.o.transactions.sendRequest(req, this.target!, {
        onResponse: (res) => live() && this.onResponse(req, res),
        // §8.1.3.1: a transaction timeout is treated as 408, a transport error as 503.
        onTimeout: () => live() && this.onFinal('408 Request Timeout'),
        onTransportError: (err) => live() && this.onFinal(`503 transport error: ${err.message}`),
      });
    } catch (err) {
      this.onFinal(`503 transport error: ${(err as Error).message}`);
    }
  }

  private onResponse(req: SipRequest, res: SipResponse): void {
    if (res.status < 200) return;
    if (res.status < 300) return this.fsm.state === 'unregistering' ? this.onFinal() : this.onGranted(res);
    if (res.status === 401 || res.status === 407) {
      const why = this.answer(req, res);
      return why === undefined ? undefined : this.onFinal(why);
    }
    if (res.status === 423 && this.fsm.state === 'registering' && this.raiseExpires(res)) return;
    const after = retryAfterSeconds(res);
    this.onFinal(`${res.status} ${res.reason}`, after);
  }

  /** A final outcome other than a grant: a failure while registering, the end of an unregister. */
  private onFinal(error?: string, retryAfter?: number): void {
    if (this.fsm.state === 'unregistering') {
      if (error !== undefined) this.o.logger.info({ err: error }, 'unregister failed');
      return this.done();
    }
    this.fail(error ?? 'unexpected response', retryAfter);
  }

  /** §22.2: re-send with credentials "with the same Call-ID … but a CSeq incremented". Answers the first
   *  challenge of an attempt; a later one only if it says stale=true (RFC 7616 §3.3: the nonce merely
   *  expired, the credentials were fine). Returns the failure text when it cannot answer. */
  private answer(req: SipRequest, res: SipResponse): string | undefined {
    const [ask, header] = res.status === 401 ? ['www-authenticate', 'Authorization'] : ['proxy-authenticate', 'Proxy-Authorization'];
    const challenge = pickBestChallenge(res.headers.filter((h) => h.name.toLowerCase() === ask).map((h) => h.value));
    if (challenge === undefined) return `${res.status} without a usable digest challenge`;
    const stale = parseChallenge(challenge).stale;
    if (this.challenges > 0 && !(stale && this.staleAnswers < MAX_STALE)) return 'bad credentials';
    if (this.challenges > 0) this.staleAnswers += 1;
    this.challenges += 1;
    let value: string;
    try {
      value = answerChallenge({ challenge, username: this.o.username, password: this.o.password, method: 'REGISTER', uri: req.uri });
    } catch (err) {
      return `cannot answer the challenge: ${(err as Error).message}`;
    }
    const expires = this.fsm.state === 'unregistering' ? 0 : this.expires;
    const next = this.buildRegister(expires, [{ name: header, value }]);
    if (!next) return `no ${this.target!.transport} listener for the Contact`;
    this.send(next);
    return undefined;
  }

  /** §10.3 step 7 / §21.4.17: 423 Interval Too Brief carries Min-Expires; ask again with at least that. */
  private raiseExpires(res: SipResponse): boolean {
    const min = minExpiresOf(res);
    if (min === undefined || min <= this.expires) return false;
    this.o.logger.info({ minExpires: min }, 'registrar wants a longer interval');
    this.expires = min;
    void this.attempt();
    return true;
  }

  /** §10.2.4: "The 200 (OK) response from the registrar contains a list of Contact fields enumerating all
   *  current bindings. … each Contact value … an expires parameter indicates its expiration interval". */
  private onGranted(res: SipResponse): void {
    const granted = this.grantedSeconds(res);
    if (granted <= 0) return this.fail('registrar kept no binding for our Contact');
    this.fsm.to('registered');
    this.failures = 0;
    this.error = undefined;
    this.grantedUntil = this.now() + granted * 1000;
    this.o.logger.info({ aor: formatUri(this.aor), expires: granted }, 'registered');
    this.schedule(refreshDelayMs(granted), () => {
      this.fsm.to('registering');
      void this.attempt();
    });
  }

  private grantedSeconds(res: SipResponse): number {
    let contacts: NameAddr[] | '*' = [];
    try {
      contacts = getContacts(res);
    } catch {
      // An unreadable Contact list: fall back to Expires.
    }
    const ours = contacts === '*' ? undefined : contacts.find((c) => c.uri.user === this.o.contactUser);
    const param = ours?.params.expires;
    if (param !== undefined && param !== null && /^\d+$/.test(param)) return Number(param);
    if (contacts !== '*' && contacts.length > 0 && ours === undefined) return 0;
    try {
      return getExpires(res) ?? this.expires;
    } catch {
      return this.expires;
    }
  }

  private fail(error: string, retryAfter?: number): void {
    this.error = error;
    this.grantedUntil = undefined;
    this.failures += 1;
    this.fsm.to('retrying');
    const delay = retryDelayMs(this.failures, retryAfter, this.o.backoff ?? DEFAULT_BACKOFF);
    this.o.logger.warn({ aor: formatUri(this.aor), err: error, retryInMs: delay }, 'registration failed');
    this.schedule(delay, () => {
      this.fsm.to('registering');
      void this.attempt();
    });
  }

  private schedule(ms: number, fn: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(fn, ms);
  }

  /** §10.2.2: remove our binding with "an expiration interval of "0""; resolves once the registrar
   *  answered, the attempt failed, or stopTimeoutMs passed. Idempotent. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    clearTimeout(this.timer);
    this.generation += 1; // whatever is in flight no longer speaks for us
    if (!this.everSent || !this.target || this.fsm.state === 'idle' || this.fsm.state === 'stopped') {
      if (this.fsm.state !== 'stopped') this.fsm.to('stopped');
      this.stopping = Promise.resolve();
      return this.stopping;
    }
    this.fsm.to('unregistering');
    this.challenges = 0;
    this.staleAnswers = 0;
    this.stopping = new Promise<void>((resolve) => {
      this.finishStop = resolve;
    });
    this.timer = setTimeout(() => this.done(), this.o.stopTimeoutMs ?? 5_000);
    const req = this.buildRegister(0);
    if (req) this.send(req);
    else this.done();
    return this.stopping;
  }

  private done(): void {
    if (this.fsm.state === 'stopped') return;
    clearTimeout(this.timer);
    this.generation += 1;
    this.grantedUntil = undefined;
    this.fsm.to('stopped');
    this.finishStop?.();
  }
}
