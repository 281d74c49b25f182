import { afterEach, describe, expect, it, vi } from 'vitest';
import { answerChallenge, createDigestServer } from '../../../gateway/sip/auth/index.js';
import { getHeader, getHeaderValues } from '../../../gateway/sip/message/index.js';
import type { SipResponse } from '../../../gateway/sip/message/types.js';
import { FakeFlow, FakeServerTx, harness, sip, testConfig } from './fakes.js';

afterEach(() => {
  vi.useRealTimers();
});

const contacts = (res: SipResponse): string[] => getHeaderValues(res, 'Contact');

describe('REGISTER authentication', () => {
  it('challenges with 401 WWW-Authenticate in our realm and binds nothing', () => {
    const { register, registrar } = harness();
    const tx = register({ auth: false });
    expect(tx.last.status).toBe(401);
    expect(getHeader(tx.last, 'WWW-Authenticate')).toMatch(/^Digest realm="gw.test"/);
    expect(registrar.count()).toBe(0);
  });

  it('a wrong password gets 401 again and nothing is registered', () => {
    const { register, registrar } = harness();
    const tx = register({ password: 'guess' });
    expect(tx.last.status).toBe(401);
    expect(registrar.count()).toBe(0);
  });

  it('an unknown user gets exactly the answer of a known user with a wrong password', () => {
    const { register, registrar } = harness();
    const wrong = register({ user: 'alice', password: 'x', callId: 'probe', cseq: 7 });
    const unknown = register({ user: 'mallory', password: 'x', callId: 'probe', cseq: 7 });
    const shape = (r: SipResponse) => ({
      status: r.status,
      reason: r.reason,
      headers: r.headers.map((h) => [
        h.name,
        h.value.replace(/alice|mallory/g, 'U').replace(/tag=[^;>]+/, 'tag=T').replace(/branch=[^;]+/, 'branch=B').replace(/nonce="[^"]*"/, 'nonce=N'),
      ]),
    });
    expect(shape(unknown.last)).toEqual(shape(wrong.last));
    expect(unknown.last.status).toBe(401);
    expect(registrar.count()).toBe(0);
  });

  it('403 when a user registers somebody else\'s address-of-record', () => {
    const { register, registrar } = harness();
    expect(register({ user: 'alice', aor: 'bob' }).last.status).toBe(403);
    expect(registrar.count()).toBe(0);
  });

  it('404 for a Request-URI outside the configured domain, before any challenge', () => {
    const { register } = harness();
    const tx = register({ uri: 'sip:other.test', auth: false });
    expect(tx.last.status).toBe(404);
    expect(getHeader(tx.last, 'WWW-Authenticate')).toBeUndefined();
  });

  it('stale nonce → 401 with stale=true', () => {
    vi.useFakeTimers();
    const { registrar } = harness();
    const flow = new FakeFlow('ws');
    const req = (authz?: string) =>
      sip(`REGISTER sip:gw.test SIP/2.0
        Via: SIP/2.0/WS c.invalid;branch=z9hG4bK${Math.random().toString(36).slice(2)}
        Max-Forwards: 70
        From: <sip:alice@gw.test>;tag=f
        To: <sip:alice@gw.test>
        Call-ID: stale
        CSeq: 1 REGISTER
        Contact: <sip:abc@c.invalid;transport=ws>
        ${authz ? `Authorization: ${authz}` : ''}`);
    const first = new FakeServerTx(req(), flow);
    registrar.handle(first.request, first);
    const authz = answerChallenge({ challenge: getHeader(first.last, 'WWW-Authenticate')!, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: 'sip:gw.test' });
    vi.advanceTimersByTime(10 * 60_000);
    const late = new FakeServerTx(req(authz), flow);
    registrar.handle(late.request, late);
    expect(late.last.status).toBe(401);
    expect(getHeader(late.last, 'WWW-Authenticate')).toMatch(/stale=TRUE/i);
  });
});

describe('REGISTER contacts', () => {
  it('binds and lists the contact with its expires and a Date header', () => {
    const { register, registrar } = harness();
    const tx = register({ expires: 600 });
    expect(tx.last.status).toBe(200);
    expect(contacts(tx.last)).toEqual(['<sip:abc@c.invalid;transport=ws>;expires=600']);
    expect(getHeader(tx.last, 'Date')).toMatch(/GMT$/);
    expect(registrar.count()).toBe(1);
  });

  it('keeps several contacts per user, each with its own expiry, all listed in the 200', () => {
    const { register, registrar } = harness();
    register({ contact: '<sip:tab1@a.invalid;transport=ws>', expires: 600, flow: new FakeFlow('ws') });
    const tx = register({ contact: ['<sip:tab2@b.invalid;transport=ws>;expires=120', '<sip:desk@10.0.0.5:5062>'], expires: 900, flow: new FakeFlow('ws') });
    expect(contacts(tx.last).sort()).toEqual([
      '<sip:desk@10.0.0.5:5062>;expires=900',
      '<sip:tab1@a.invalid;transport=ws>;expires=600',
      '<sip:tab2@b.invalid;transport=ws>;expires=120',
    ]);
    expect(registrar.count('alice')).toBe(3);
    expect(registrar.count('bob')).toBe(0);
  });

  it('refreshing a contact replaces it instead of adding one', () => {
    const { register, registrar } = harness();
    register({ expires: 600 });
    const tx = register({ expires: 300 });
    expect(contacts(tx.last)).toEqual(['<sip:abc@c.invalid;transport=ws>;expires=300']);
    expect(registrar.count()).toBe(1);
  });

  it('Expires: 0 removes just that contact', () => {
    const { register, registrar } = harness();
    register({ contact: '<sip:a@c.invalid;transport=ws>', expires: 600 });
    register({ contact: '<sip:b@c.invalid;transport=ws>', expires: 600 });
    const tx = register({ contact: '<sip:a@c.invalid;transport=ws>', expires: 0 });
    expect(tx.last.status).toBe(200);
    expect(contacts(tx.last)).toEqual(['<sip:b@c.invalid;transport=ws>;expires=600']);
    expect(registrar.count()).toBe(1);
  });

  it('a contact expires=0 parameter wins over the Expires header', () => {
    const { register, registrar } = harness();
    register({ contact: '<sip:a@c.invalid;transport=ws>', expires: 600 });
    register({ contact: '<sip:a@c.invalid;transport=ws>;expires=0', expires: 600 });
    expect(registrar.count()).toBe(0);
  });

  it('a REGISTER without Contact is a query: 200 with the current list, nothing changed', () => {
    const { register, registrar } = harness();
    register({ expires: 600 });
    const tx = register({ contact: null });
    expect(tx.last.status).toBe(200);
    expect(contacts(tx.last)).toHaveLength(1);
    expect(registrar.count()).toBe(1);
  });

  it('400 for an unparseable expires parameter (a bad Expires header never gets past the parser)', () => {
    const { register, registrar } = harness();
    expect(register({ contact: '<sip:a@c.invalid;transport=ws>;expires=x' }).last.status).toBe(400);
    expect(registrar.count()).toBe(0);
  });
});

describe('REGISTER expiry bounds (config.registrar)', () => {
  it('423 Interval Too Brief with Min-Expires under minExpires; nothing bound', () => {
    const { register, registrar } = harness({ config: testConfig({ minExpires: 120 }) });
    const tx = register({ expires: 119 });
    expect(tx.last.status).toBe(423);
    expect(getHeader(tx.last, 'Min-Expires')).toBe('120');
    expect(registrar.count()).toBe(0);
    expect(register({ expires: 120 }).last.status).toBe(200);
  });

  it('clamps an interval above maxExpires', () => {
    const { register } = harness({ config: testConfig({ maxExpires: 1800 }) });
    expect(contacts(register({ expires: 99999 }).last)).toEqual(['<sip:abc@c.invalid;transport=ws>;expires=1800']);
  });

  it('chooses an hour (within the bounds) when the REGISTER names no interval', () => {
    expect(contacts(harness().register().last)[0]).toMatch(/;expires=3600$/);
    expect(contacts(harness({ config: testConfig({ maxExpires: 600 }) }).register().last)[0]).toMatch(/;expires=600$/);
  });
});

describe('Contact: * (RFC 3261 §10.3 step 6)', () => {
  it('with Expires: 0 removes every contact of the user', () => {
    const { register, registrar } = harness();
    register({ contact: '<sip:a@c.invalid;transport=ws>', expires: 600 });
    register({ contact: '<sip:b@c.invalid;transport=ws>', expires: 600 });
    register({ user: 'bob', contact: '<sip:b@c.invalid;transport=ws>', expires: 600 });
    const tx = register({ contact: '*', expires: 0 });
    expect(tx.last.status).toBe(200);
    expect(contacts(tx.last)).toEqual([]);
    expect(registrar.count('alice')).toBe(0);
    expect(registrar.count('bob')).toBe(1);
  });

  it('400 with a non-zero or missing Expires, or beside other contacts', () => {
    const { register, registrar } = harness();
    register({ expires: 600 });
    expect(register({ contact: '*', expires: 600 }).last.status).toBe(400);
    expect(register({ contact: '*' }).last.status).toBe(400);
    expect(register({ contact: ['*', '<sip:x@c.invalid;transport=ws>'], expires: 0 }).last.status).toBe(400);
    expect(registrar.count()).toBe(1);
  });

  it('fails when a binding has the same Call-ID and a CSeq not lower than the request', () => {
    const { register, registrar } = harness();
    register({ callId: 'one', cseq: 10, expires: 600 });
    const tx = register({ callId: 'one', cseq: 10, contact: '*', expires: 0 });
    expect(tx.last.status).toBe(500);
    expect(registrar.count()).toBe(1);
    // A different Call-ID removes it whatever its CSeq; so does a higher CSeq.
    expect(register({ callId: 'two', cseq: 1, contact: '*', expires: 0 }).last.status).toBe(200);
    expect(registrar.count()).toBe(0);
  });
});

describe('out-of-order REGISTER (§10.3 step 7)', () => {
  it('a same-Call-ID REGISTER with a lower CSeq fails and changes nothing', () => {
    const { register, registrar } = harness();
    register({ callId: 'c', cseq: 5, expires: 600 });
    const tx = register({ callId: 'c', cseq: 4, expires: 0 });
    expect(tx.last.status).toBe(500);
    expect(registrar.count()).toBe(1);
  });

  it('a different Call-ID updates the binding whatever its CSeq', () => {
    const { register, registrar } = harness();
    register({ callId: 'c', cseq: 5, expires: 600 });
    expect(register({ callId: 'd', cseq: 1, expires: 0 }).last.status).toBe(200);
    expect(registrar.count()).toBe(0);
  });
});

describe('contact limit', () => {
  it('refuses a contact beyond maxContacts with 403, keeps the others', () => {
    const { register, registrar } = harness({ maxContacts: 2 });
    register({ contact: '<sip:a@c.invalid;transport=ws>', expires: 600 });
    register({ contact: '<sip:b@c.invalid;transport=ws>', expires: 600 });
    const tx = register({ contact: '<sip:c@c.invalid;transport=ws>', expires: 600 });
    expect(tx.last.status).toBe(403);
    expect(registrar.count()).toBe(2);
    expect(register({ contact: '<sip:b@c.invalid;transport=ws>', expires: 900 }).last.status).toBe(200);
  });
});

describe('challenge order (RFC 8760 §2.4)', () => {
  const both = () => createDigestServer({ realm: 'gw.test', algorithms: ['SHA-256', 'MD5'] });
  // RFC 2617 §3.2.1: no algorithm parameter means MD5 (a tight UDP budget leaves it out, sip/ua/challenge.ts).
  const algorithms = (tx: FakeServerTx) => getHeaderValues(tx.last, 'WWW-Authenticate').map((v) => /algorithm=([\w-]+)/.exec(v)?.[1] ?? 'MD5');

  it('keeps the digest server order over WebSocket (sip.js keeps the last challenge: MD5)', () => {
    const { register } = harness({ digest: both() });
    expect(algorithms(register({ auth: false, flow: new FakeFlow('ws') }))).toEqual(['SHA-256', 'MD5']);
  });

  it('puts MD5 first for SIP phones over UDP/TCP, the same for unknown users (UDP: only what fits, sip/ua/challenge.ts)', () => {
    const { register } = harness({ digest: both() });
    const udp = new FakeFlow('udp');
    // This REGISTER is smaller than a 401 with both challenges: over UDP only the preferred one goes.
    const overUdp = register({ auth: false, flow: udp, contact: '<sip:alice@10.0.0.2>' });
    expect(algorithms(overUdp)).toEqual(['MD5']);
    expect(overUdp.stateless).toEqual([overUdp.last]);
    expect(algorithms(register({ auth: false, flow: new FakeFlow('tcp'), user: 'mallory' }))).toEqual(['MD5', 'SHA-256']);
    // Either answer is accepted.
    expect(register({ flow: udp, contact: '<sip:alice@10.0.0.2>' }).last.status).toBe(200);
  });
});
