import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getCallId, getContacts, getCSeq, getFrom, getHeader, getTo } from '../../../gateway/sip/message/index.js';
import { RegisterClient, type RegisterClientOptions } from '../../../gateway/upstream/register-client.js';
import { FakeLayers, ScriptedRegistrar, silent } from './fakes.js';

let layers: FakeLayers;
let pbx: ScriptedRegistrar;

function client(o: Partial<RegisterClientOptions> = {}): RegisterClient {
  return new RegisterClient({
    registrar: 'sip:127.0.0.1:5080',
    username: 'alice1',
    password: 'secret',
    expires: 600,
    contactUser: 'gwtoken',
    transport: layers.transport,
    transactions: layers.transactions,
    logger: silent,
    ...o,
  });
}

/** Let the async target resolution run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

async function registered(c: RegisterClient, expires = 600): Promise<void> {
  c.start();
  await settle();
  pbx.challenge();
  pbx.grant(expires);
  expect(c.state).toBe('registered');
}

beforeEach(() => {
  vi.useFakeTimers();
  layers = new FakeLayers();
  pbx = new ScriptedRegistrar(layers, 'secret');
});
afterEach(() => {
  vi.useRealTimers();
});

describe('REGISTER (RFC 3261 §10.2)', () => {
  it('sends a REGISTER for the AOR with our token Contact to the resolved registrar', async () => {
    const c = client();
    c.start();
    expect(c.state).toBe('registering');
    await settle();
    const { request, dest } = layers.last;
    expect(request.method).toBe('REGISTER');
    expect(request.uri).toBe('sip:127.0.0.1:5080');
    expect(dest).toEqual({ address: '127.0.0.1', port: 5080, transport: 'udp' });
    expect(getTo(request).uri).toMatchObject({ user: 'alice1', host: '127.0.0.1' });
    expect(getFrom(request).uri).toMatchObject({ user: 'alice1', host: '127.0.0.1' });
    expect(getFrom(request).params.tag).toBeTruthy();
    expect(getTo(request).params.tag).toBeUndefined();
    const contacts = getContacts(request);
    expect(contacts !== '*' && contacts[0]!.uri).toMatchObject({ user: 'gwtoken', host: '127.0.0.1', port: 5070 });
    expect(getHeader(request, 'Expires')).toBe('600');
    expect(getCSeq(request)).toEqual({ seq: 1, method: 'REGISTER' });
  });

  it('uses the configured domain for the AOR and keeps URI params off the AOR', async () => {
    const c = client({ registrar: 'sip:127.0.0.1:5080;transport=udp', domain: 'pbx.example' });
    c.start();
    await settle();
    expect(getTo(layers.last.request).uri).toMatchObject({ user: 'alice1', host: 'pbx.example', params: {} });
    expect(layers.last.request.uri).toBe('sip:127.0.0.1:5080;transport=udp');
  });

  it('answers a 401 once with valid credentials, same Call-ID, CSeq + 1, then is registered until the granted expiry', async () => {
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const c = client();
    c.start();
    await settle();
    const first = layers.last.request;
    pbx.challenge();
    expect(layers.sent).toHaveLength(2);
    const second = layers.last.request;
    expect(pbx.verifies()).toBe(true);
    expect(getCallId(second)).toBe(getCallId(first));
    expect(getCSeq(second).seq).toBe(2);
    expect(getFrom(second).params.tag).toBe(getFrom(first).params.tag);
    pbx.grant(120);
    expect(c.status()).toEqual({ state: 'registered', expiresAt: '2030-01-01T00:02:00.000Z' });
  });

  it('a second non-stale challenge means bad credentials: retrying, with the reason in status', async () => {
    pbx = new ScriptedRegistrar(layers, 'other');
    const c = client();
    c.start();
    await settle();
    pbx.challenge();
    expect(pbx.verifies()).toBe(false);
    pbx.challenge();
    expect(layers.sent).toHaveLength(2);
    expect(c.status()).toEqual({ state: 'retrying', lastError: 'bad credentials' });
  });

  it('a stale=true challenge after credentials is answered again silently', async () => {
    const c = client();
    c.start();
    await settle();
    pbx.challenge();
    pbx.challenge(true);
    expect(layers.sent).toHaveLength(3);
    expect(pbx.verifies()).toBe(true);
    pbx.grant(600);
    expect(c.status().state).toBe('registered');
    expect(c.status().lastError).toBeUndefined();
  });

  it('answers a 407 with Proxy-Authorization', async () => {
    const c = client();
    c.start();
    await settle();
    layers.answer(407, 'Proxy Authentication Required', pbx.digest.challenge().map((value) => ({ name: 'Proxy-Authenticate', value })));
    expect(getHeader(layers.last.request, 'Proxy-Authorization')).toMatch(/^Digest /);
    expect(c.state).toBe('registering');
  });

  it('takes the Expires header when the 200 lists no expires param', async () => {
    const c = client();
    c.start();
    await settle();
    layers.answer(200, 'OK', [{ name: 'Contact', value: getHeader(layers.last.request, 'Contact')! }, { name: 'Expires', value: '90' }]);
    expect(c.state).toBe('registered');
    await vi.advanceTimersByTimeAsync(45_000);
    expect(layers.sent).toHaveLength(2);
  });

  it('a 200 that does not list our Contact is a failure', async () => {
    const c = client();
    c.start();
    await settle();
    layers.answer(200, 'OK', [{ name: 'Contact', value: '<sip:someone@10.0.0.1>;expires=600' }]);
    expect(c.status()).toMatchObject({ state: 'retrying', lastError: 'registrar kept no binding for our Contact' });
  });
});

describe('refresh (§10.2.4)', () => {
  it.each([
    [600, 300_000],
    [120, 60_000],
    [40, 10_000],
  ])('granted %i s → refreshes after %i ms with the same Call-ID and the next CSeq', async (granted, at) => {
    const c = client();
    await registered(c, granted);
    const before = layers.last.request;
    await vi.advanceTimersByTimeAsync(at - 1);
    expect(layers.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(layers.sent).toHaveLength(3);
    expect(c.state).toBe('registering');
    expect(getCallId(layers.last.request)).toBe(getCallId(before));
    expect(getCSeq(layers.last.request).seq).toBe(3);
    pbx.challenge();
    pbx.grant(granted);
    expect(c.state).toBe('registered');
  });
});

describe('failures and backoff', () => {
  it('retries after 5 s doubling up to 5 min, and resets after a success', async () => {
    const c = client();
    c.start();
    await settle();
    const gaps: number[] = [];
    for (let i = 0; i < 8; i++) {
      layers.answer(500, 'Server Internal Error');
      expect(c.status()).toEqual({ state: 'retrying', lastError: '500 Server Internal Error' });
      const n = layers.sent.length;
      let waited = 0;
      while (layers.sent.length === n) {
        await vi.advanceTimersByTimeAsync(1_000);
        waited += 1_000;
      }
      gaps.push(waited / 1000);
    }
    expect(gaps).toEqual([5, 10, 20, 40, 80, 160, 300, 300]);
    pbx.challenge();
    pbx.grant(600);
    await vi.advanceTimersByTimeAsync(300_000);
    layers.answer(503, 'Service Unavailable');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(layers.sent).toHaveLength(11);
    await vi.advanceTimersByTimeAsync(1);
    expect(layers.sent).toHaveLength(12);
  });

  it('honours Retry-After', async () => {
    const c = client();
    c.start();
    await settle();
    layers.answer(503, 'Service Unavailable', [{ name: 'Retry-After', value: '30 (maintenance)' }]);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(layers.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(layers.sent).toHaveLength(2);
  });

  it('a transaction timeout is a 408, a transport error a 503 (§8.1.3.1)', async () => {
    const c = client();
    c.start();
    await settle();
    layers.last.handlers.onTimeout();
    expect(c.status()).toEqual({ state: 'retrying', lastError: '408 Request Timeout' });
    await vi.advanceTimersByTimeAsync(5_000);
    layers.last.handlers.onTransportError(new Error('ECONNREFUSED'));
    expect(c.status()).toEqual({ state: 'retrying', lastError: '503 transport error: ECONNREFUSED' });
  });

  it('423 Interval Too Brief → asks again at once with Min-Expires', async () => {
    const c = client({ expires: 60 });
    c.start();
    await settle();
    layers.answer(423, 'Interval Too Brief', [{ name: 'Min-Expires', value: '1800' }]);
    expect(layers.sent).toHaveLength(2);
    expect(getHeader(layers.last.request, 'Expires')).toBe('1800');
    expect(getCSeq(layers.last.request).seq).toBe(2);
    pbx.challenge();
    expect(getHeader(layers.last.request, 'Expires')).toBe('1800');
    pbx.grant(1800);
    expect(c.state).toBe('registered');
  });

  it('423 without a larger Min-Expires is a failure', async () => {
    const c = client({ expires: 60 });
    c.start();
    await settle();
    layers.answer(423, 'Interval Too Brief');
    expect(c.status()).toEqual({ state: 'retrying', lastError: '423 Interval Too Brief' });
  });

  it('no listener for the registrar transport → failure with the reason', async () => {
    layers.listening = {};
    const c = client();
    c.start();
    await settle();
    expect(layers.sent).toHaveLength(0);
    expect(c.status()).toEqual({ state: 'retrying', lastError: 'no udp listener for the Contact' });
  });

  it('an unresolvable registrar → failure with the reason', async () => {
    const c = client({ registrar: 'sip:pbx.invalid' });
    c.start();
    await settle();
    expect(c.status().state).toBe('retrying');
    expect(c.status().lastError).toMatch(/cannot resolve registrar: unresolvable host/);
  });
});

describe('stop (§10.2.2)', () => {
  it('sends Expires: 0 for our Contact, answers its challenge, resolves on the 200', async () => {
    const c = client();
    await registered(c);
    let done = false;
    const stopped = c.stop().then(() => (done = true));
    expect(c.state).toBe('unregistering');
    expect(getHeader(layers.last.request, 'Expires')).toBe('0');
    expect(getCSeq(layers.last.request).seq).toBe(3);
    pbx.challenge();
    expect(getHeader(layers.last.request, 'Expires')).toBe('0');
    expect(pbx.verifies()).toBe(true);
    await settle();
    expect(done).toBe(false);
    layers.answer(200, 'OK');
    await stopped;
    expect(c.state).toBe('stopped');
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(layers.sent).toHaveLength(4); // no refresh after stop
  });

  it('resolves after the stop timeout when the registrar stays silent', async () => {
    const c = client({ stopTimeoutMs: 2_000 });
    await registered(c);
    let done = false;
    void c.stop().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    expect(c.state).toBe('stopped');
  });

  it('before anything was sent: stops without sending; a late response is ignored', async () => {
    const idle = client();
    await idle.stop();
    expect(idle.state).toBe('stopped');
    expect(layers.sent).toHaveLength(0);

    const c = client();
    await registered(c);
    const stopping = c.stop();
    const unregister = layers.last;
    layers.answer(200, 'OK');
    await stopping;
    unregister.handlers.onResponse({ ...layers.answer(200, 'OK') });
    expect(c.state).toBe('stopped');
  });

  it('stop while retrying after a registration sends the unregister too', async () => {
    const c = client();
    await registered(c, 60);
    await vi.advanceTimersByTimeAsync(30_000);
    layers.answer(500, 'Server Internal Error');
    expect(c.state).toBe('retrying');
    void c.stop();
    expect(getHeader(layers.last.request, 'Expires')).toBe('0');
  });
});
