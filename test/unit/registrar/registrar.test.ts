import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { createRegistrar } from '../../../gateway/registrar/index.js';
import { answerChallenge, createDigestServer } from '../../../gateway/sip/auth/index.js';
import { getHeader, getHeaderValues } from '../../../gateway/sip/message/index.js';
import { FakeFlow, FakeServerTx, sip } from '../call/fakes.js';

const config = configSchema.parse({
  sip: { domain: 'gw.test' },
  users: [{ name: 'alice', password: 'wonderland' }, { name: 'bob', password: 'builder' }],
});

function setup() {
  let now = 1_000_000;
  const clock = { advance: (ms: number) => (now += ms) };
  const digest = createDigestServer({ realm: 'gw.test', algorithms: ['MD5'], now: () => now });
  const registrar = createRegistrar({ config, digest, logger: createLogger('silent'), now: () => now });
  let cseq = 0;
  function register(o: { user?: string; password?: string; contact?: string; expires?: string; uri?: string; flow?: FakeFlow; auth?: boolean; aor?: string } = {}) {
    const user = o.user ?? 'alice';
    const aor = o.aor ?? user;
    const uri = o.uri ?? 'sip:gw.test';
    const flow = o.flow ?? new FakeFlow('ws-1');
    const text = (authz?: string) =>
      sip(`REGISTER ${uri} SIP/2.0
        Via: SIP/2.0/WS c.invalid;branch=z9hG4bK${++cseq}
        Max-Forwards: 70
        From: <sip:${aor}@gw.test>;tag=f
        To: <sip:${aor}@gw.test>
        Call-ID: reg-${user}
        CSeq: ${cseq} REGISTER
        Contact: ${o.contact ?? '<sip:abc@c.invalid;transport=ws>'}
        ${o.expires !== undefined ? `Expires: ${o.expires}` : 'X-No-Expires: 1'}
        ${authz ? `Authorization: ${authz}` : 'X-No-Auth: 1'}`);
    const first = new FakeServerTx(text(), flow);
    registrar.handle(first.request, first);
    if (o.auth === false || first.last.status !== 401) return first;
    const challenge = getHeader(first.last, 'WWW-Authenticate')!;
    const authz = answerChallenge({ challenge, username: user, password: o.password ?? 'wonderland', method: 'REGISTER', uri });
    const second = new FakeServerTx(text(authz), flow);
    registrar.handle(second.request, second);
    return second;
  }
  return { registrar, register, clock };
}

describe('registrar', () => {
  it('challenges with 401 WWW-Authenticate in our realm', () => {
    const { register } = setup();
    const tx = register({ auth: false });
    expect(tx.last.status).toBe(401);
    expect(getHeader(tx.last, 'WWW-Authenticate')).toMatch(/^Digest realm="gw.test"/);
  });

  it('binds on good credentials and lists the contacts with expires', () => {
    const { register, registrar } = setup();
    const tx = register({ expires: '600' });
    expect(tx.last.status).toBe(200);
    expect(getHeaderValues(tx.last, 'Contact')).toEqual(['<sip:abc@c.invalid;transport=ws>;expires=600']);
    expect(registrar.count()).toBe(1);
    expect(registrar.bindings('alice')[0]!.flow?.id).toBe('ws-1');
  });

  it('answers a wrong password and an unknown user with the same 401', () => {
    const { register, registrar } = setup();
    const wrong = register({ password: 'nope' });
    const unknown = register({ user: 'mallory', password: 'x' });
    expect([wrong.last.status, unknown.last.status]).toEqual([401, 401]);
    expect(wrong.last.reason).toBe(unknown.last.reason);
    expect(registrar.count()).toBe(0);
  });

  it('rejects intervals under 60 s with 423 and Min-Expires, clamps above 3600', () => {
    const { register } = setup();
    const brief = register({ expires: '30' });
    expect(brief.last.status).toBe(423);
    expect(getHeader(brief.last, 'Min-Expires')).toBe('60');
    const long = register({ expires: '99999' });
    expect(getHeaderValues(long.last, 'Contact')[0]).toMatch(/;expires=3600$/);
  });

  it('expires bindings with time and removes them with Expires: 0 or *', () => {
    const { register, registrar, clock } = setup();
    register({ expires: '60' });
    clock.advance(59_000);
    expect(registrar.count()).toBe(1);
    clock.advance(1_000);
    expect(registrar.count()).toBe(0);
    register({ expires: '600' });
    expect(register({ expires: '0' }).last.status).toBe(200);
    expect(registrar.count()).toBe(0);
    register({ expires: '600', contact: '<sip:a@c.invalid;transport=ws>' });
    register({ expires: '600', contact: '<sip:b@c.invalid;transport=ws>' });
    expect(registrar.count()).toBe(2);
    expect(register({ expires: '0', contact: '*' }).last.status).toBe(200);
    expect(registrar.count()).toBe(0);
  });

  it('400 for * with a non-zero Expires', () => {
    const { register } = setup();
    expect(register({ expires: '600', contact: '*' }).last.status).toBe(400);
  });

  it('drops WebSocket bindings when their flow closes', () => {
    const { register, registrar } = setup();
    const flow = new FakeFlow('ws-9');
    register({ flow });
    expect(registrar.count()).toBe(1);
    flow.close();
    expect(registrar.count()).toBe(0);
  });

  it('keeps UDP bindings independent of the flow', () => {
    const { register, registrar } = setup();
    const flow = new FakeFlow('udp', 'udp');
    register({ flow, contact: '<sip:alice@127.0.0.1:5099>' });
    flow.close();
    expect(registrar.count()).toBe(1);
  });

  it('enforces the configured domain (404) and that users register only their own AOR', () => {
    const { register } = setup();
    expect(register({ uri: 'sip:other.test', auth: false }).last.status).toBe(404);
    expect(register({ aor: 'bob' }).last.status).toBe(403);
  });

  it('stale nonce → 401 with stale=true', () => {
    const { registrar, clock } = setup();
    const flow = new FakeFlow('ws-1');
    const req = (authz?: string) =>
      sip(`REGISTER sip:gw.test SIP/2.0
        Via: SIP/2.0/WS c.invalid;branch=z9hG4bK${Math.random().toString(36).slice(2)}
        Max-Forwards: 70
        From: <sip:alice@gw.test>;tag=f
        To: <sip:alice@gw.test>
        Call-ID: stale
        CSeq: 1 REGISTER
        Contact: <sip:abc@c.invalid;transport=ws>
        ${authz ? `Authorization: ${authz}` : 'X-No-Auth: 1'}`);
    const first = new FakeServerTx(req(), flow);
    registrar.handle(first.request, first);
    const authz = answerChallenge({ challenge: getHeader(first.last, 'WWW-Authenticate')!, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: 'sip:gw.test' });
    clock.advance(10 * 60_000);
    const late = new FakeServerTx(req(authz), flow);
    registrar.handle(late.request, late);
    expect(late.last.status).toBe(401);
    expect(getHeader(late.last, 'WWW-Authenticate')).toMatch(/stale=TRUE/i);
  });
});
