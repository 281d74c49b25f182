// Phone (web/phone.js) against a scripted stand-in for sip.js: the states and reasons the UI shows.
import { describe, expect, it, vi } from 'vitest';

vi.mock('sip.js', async () => (await import('./fake-sipjs.js')).fakeSipJs);

import { fake, newPhone, registeredPhone, resetFakeSipJsEachTest, response, settle } from './phone-harness.js';

resetFakeSipJsEachTest();

describe('web/phone: registration', () => {
  it('connects to the WebSocket URL without STUN, with a short ICE gathering, and registers', async () => {
    const phone = newPhone();
    const seen: string[] = [];
    phone.addEventListener('registration', (e) => seen.push((e as CustomEvent).detail.state));
    await phone.signIn({ user: 'alice', password: 'pw' });
    const opts = fake.UserAgent.last.options;
    expect(opts.uri).toEqual({ text: 'sip:alice@gw.test' });
    expect(opts.authorizationUsername).toBe('alice');
    expect(opts.transportOptions).toEqual({ server: 'ws://gw.test/sip' });
    expect(opts.sessionDescriptionHandlerFactoryOptions.peerConnectionConfiguration).toEqual({ iceServers: [] });
    expect(opts.sessionDescriptionHandlerFactoryOptions.iceGatheringTimeout).toBeLessThanOrEqual(1000);
    fake.Registerer.last.stateChange.emit('Registered');
    expect(seen).toEqual(['connecting', 'registering', 'registered']);
  });

  it('uses the domain field when given', async () => {
    const phone = newPhone();
    await phone.signIn({ user: 'bob', password: 'pw', domain: 'example.com' });
    expect(fake.UserAgent.last.options.uri).toEqual({ text: 'sip:bob@example.com' });
  });

  it('fails with the reason of the final response', async () => {
    const phone = newPhone();
    await phone.signIn({ user: 'alice', password: 'bad' });
    const [opts] = fake.Registerer.last.register.mock.calls[0];
    opts.requestDelegate.onReject(response(401, 'Unauthorized'));
    expect(phone.registration.state).toBe('failed');
    expect(phone.registration.reason).toBe('Wrong user or password (401)');
  });

  it('fails clearly when the server cannot be reached, and can retry', async () => {
    const phone = newPhone();
    fake.UserAgent.refuse = true;
    await phone.signIn({ user: 'alice', password: 'x' });
    expect(phone.registration.state).toBe('failed');
    expect(phone.registration.reason).toBe('Cannot reach the server (ws://gw.test/sip)');
    fake.UserAgent.refuse = false;
    const old = fake.UserAgent.last;
    await phone.signIn({ user: 'alice', password: 'x' });
    expect(old.stop).toHaveBeenCalled();
    expect(phone.registration.state).toBe('registering');
  });

  it('rejects bad input with a reason and without changing state', async () => {
    const phone = newPhone();
    await expect(phone.signIn({ user: 'a b', password: 'x' })).rejects.toThrow(/User name/);
    await expect(phone.signIn({ user: 'alice', password: '' })).rejects.toThrow('Enter a password');
    expect(phone.registration.state).toBe('signed-out');
  });
});

describe('web/phone: outgoing calls', () => {
  it('goes calling → ringing → in-call, exposes the remote stream, hangs up with BYE', async () => {
    const phone = await registeredPhone();
    const media = vi.fn();
    phone.addEventListener('media', (e) => media((e as CustomEvent).detail.stream));
    await phone.dial('*43');
    const inv = fake.Inviter.last;
    expect(inv.target).toEqual({ text: 'sip:*43@gw.test' });
    expect(phone.call.state).toBe('calling');
    const [opts] = inv.invite.mock.calls[0];
    opts.requestDelegate.onProgress(response(180, 'Ringing'));
    expect(phone.call.state).toBe('ringing');
    inv.stateChange.emit('Established');
    expect(phone.call.state).toBe('in-call');
    expect(media).toHaveBeenCalledWith({ id: 'remote' });
    expect(phone.sendDtmf('5')).toBe(true);
    expect(phone.sendDtmf('x')).toBe(false);
    await phone.hangup();
    expect(inv.bye).toHaveBeenCalled();
    inv.stateChange.emit('Terminated');
    await settle();
    expect([phone.call.state, phone.call.reason]).toEqual(['ended', 'Hung up']);
  });

  it('shows the final response even though sip.js terminates before calling onReject', async () => {
    const phone = await registeredPhone();
    await phone.dial('5551234');
    const inv = fake.Inviter.last;
    const [opts] = inv.invite.mock.calls[0];
    inv.stateChange.emit('Terminated'); // sip.js order: state first...
    opts.requestDelegate.onReject(response(486, 'Busy Here')); // ...then the delegate, same tick
    await settle();
    expect([phone.call.state, phone.call.reason]).toEqual(['ended', 'Busy (486)']);
  });

  it('reports a remote hang-up and cancels a ringing call', async () => {
    const phone = await registeredPhone();
    await phone.dial('5551234');
    let inv = fake.Inviter.last;
    inv.stateChange.emit('Established');
    inv.delegate.onBye();
    inv.stateChange.emit('Terminated');
    await settle();
    expect(phone.call.reason).toBe('Remote party hung up');

    await phone.dial('5551234');
    inv = fake.Inviter.last;
    await phone.hangup();
    expect(inv.cancel).toHaveBeenCalled();
    inv.stateChange.emit('Terminated');
    await settle();
    expect([phone.call.state, phone.call.reason]).toEqual(['ended', 'Cancelled']);
  });

  it('refuses to dial when signed out, busy, or given a bad number', async () => {
    await expect(newPhone().dial('123')).rejects.toThrow('Sign in first');
    const phone = await registeredPhone();
    await expect(phone.dial('12 3@x')).rejects.toThrow(/only digits/);
    expect(phone.call.state).toBe('idle');
    await phone.dial('123');
    await expect(phone.dial('456')).rejects.toThrow('Already in a call');
  });

  it('escapes # in the Request-URI user part', async () => {
    const phone = await registeredPhone();
    await phone.dial('12#');
    expect(fake.Inviter.last.target).toEqual({ text: 'sip:12%23@gw.test' });
  });
});
