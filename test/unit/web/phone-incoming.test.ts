// Phone (web/phone.js) against the scripted sip.js: incoming calls (caller ID, CANCEL reasons, history)
// and reconnection after a lost connection.
import { describe, expect, it, vi } from 'vitest';

vi.mock('sip.js', async () => (await import('./fake-sipjs.js')).fakeSipJs);

import { reconnectDelayMs } from '../../../web/phone.js';
import type { Phone } from '../../../web/phone.js';
import { fake, registeredPhone, resetFakeSipJsEachTest, response, settle } from './phone-harness.js';

resetFakeSipJsEachTest();

describe('web/phone: incoming calls', () => {
  function invite(phone: Phone, headers: Record<string, string[]> = {}): any {
    const inv = new fake.Session();
    inv.headers = headers;
    fake.UserAgent.last.options.delegate.onInvite(inv);
    void phone;
    return inv;
  }
  /** sip.js order on CANCEL: delegate.onCancel(cancel), 487, then Terminated. */
  function cancel(inv: any, reason?: string): void {
    const headers = reason === undefined ? [] : [reason];
    inv.delegate.onCancel({ request: { getHeaders: (n: string) => (n.toLowerCase() === 'reason' ? headers : []) } });
    inv.stateChange.emit('Terminated');
  }
  const FROM = { from: ['"Carrier Caller" <sip:5557777@127.0.0.1>;tag=77'] };

  it('shows the caller ID from From, or from P-Asserted-Identity when present', async () => {
    const phone = await registeredPhone();
    const events: any[] = [];
    phone.addEventListener('incoming', (e) => events.push((e as CustomEvent).detail));
    const inv = invite(phone, FROM);
    expect(phone.callerId).toEqual({ number: '5557777', displayName: 'Carrier Caller' });
    expect(phone.peer).toBe('Carrier Caller (5557777)');
    expect(events).toEqual([{ state: 'ringing', reason: 'Carrier Caller (5557777)', callerId: phone.callerId, line: expect.any(Number) }]);
    await phone.decline();
    inv.stateChange.emit('Terminated');
    await settle();
    invite(phone, { ...FROM, 'p-asserted-identity': ['"Verified" <tel:+15550199>'] });
    expect(phone.callerId).toEqual({ number: '+15550199', displayName: 'Verified' });
  });

  it('falls back to sip.js’s parsed From when the raw header is unusable', async () => {
    const phone = await registeredPhone();
    invite(phone, { from: ['garbage'] });
    expect(phone.callerId).toEqual({ number: '+15550100', displayName: '' });
  });

  it('a CANCEL without Reason is a missed call, listed with the caller', async () => {
    const phone = await registeredPhone();
    const inv = invite(phone, FROM);
    cancel(inv);
    await settle();
    expect([phone.incoming.state, phone.call.state, phone.call.reason]).toEqual(['missed', 'ended', 'Missed call']);
    expect(phone.history.missed()).toMatchObject([{ direction: 'in', number: '5557777', displayName: 'Carrier Caller', outcome: 'missed', reason: 'Not answered' }]);
  });

  it('a CANCEL with Reason: SIP;cause=200 is answered elsewhere, not missed', async () => {
    const phone = await registeredPhone();
    const inv = invite(phone, FROM);
    cancel(inv, 'SIP;cause=200;text="Call completed elsewhere"');
    await settle();
    expect([phone.incoming.state, phone.call.reason]).toEqual(['answered-elsewhere', 'Answered elsewhere']);
    expect(phone.history.missed()).toEqual([]);
    expect(phone.history.recent()).toMatchObject([{ outcome: 'answered-elsewhere', durationMs: null }]);
  });

  it('a CANCEL racing our accept still ends as the CANCEL says', async () => {
    const phone = await registeredPhone();
    const inv = invite(phone, FROM);
    await phone.accept();
    expect(phone.incoming.state).toBe('accepting');
    cancel(inv, 'SIP;cause=200');
    await settle();
    expect(phone.incoming.state).toBe('answered-elsewhere');
  });

  it('an answered call ends as "ended" and is listed with its duration', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const phone = await registeredPhone();
      const inv = invite(phone, FROM);
      await phone.accept();
      inv.stateChange.emit('Established');
      expect(phone.incoming.state).toBe('answered');
      vi.setSystemTime(Date.now() + 42_000);
      await phone.hangup();
      inv.stateChange.emit('Terminated');
      await settle();
      expect(phone.incoming.state).toBe('ended');
      expect(phone.history.recent()).toMatchObject([{ direction: 'in', outcome: 'answered', durationMs: 42_000, reason: 'Hung up' }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('records outgoing calls: busy with its reason', async () => {
    const phone = await registeredPhone();
    await phone.dial('5551234');
    const inv = fake.Inviter.last;
    const [opts] = inv.invite.mock.calls[0];
    inv.stateChange.emit('Terminated');
    opts.requestDelegate.onReject(response(486, 'Busy Here'));
    await settle();
    expect(phone.history.recent()).toMatchObject([{ direction: 'out', number: '5551234', outcome: 'failed', reason: 'Busy (486)' }]);
    expect(phone.incoming.state).toBe('none');
  });

  it('rings, accepts audio-only and goes in call', async () => {
    const phone = await registeredPhone();
    const inv = invite(phone);
    expect([phone.call.state, phone.peer]).toEqual(['incoming', '+15550100']);
    await phone.accept();
    expect(inv.accept).toHaveBeenCalledWith({
      sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
    });
    inv.stateChange.emit('Established');
    expect(phone.call.state).toBe('in-call');
  });

  it('declines with 603 and answers a second caller 486 while busy', async () => {
    const phone = await registeredPhone();
    const first = invite(phone);
    const second = invite(phone);
    expect(second.reject).toHaveBeenCalledWith({ statusCode: 486 });
    await phone.decline();
    expect(first.reject).toHaveBeenCalledWith({ statusCode: 603 });
    first.stateChange.emit('Terminated');
    await settle();
    expect([phone.call.state, phone.call.reason]).toEqual(['ended', 'Declined']);
    expect(phone.incoming.state).toBe('declined');
    expect(phone.history.recent()).toMatchObject([{ outcome: 'declined' }]);
    expect(phone.history.missed()).toEqual([]);
    await expect(phone.accept()).rejects.toThrow('No incoming call to accept');
  });
});

describe('web/phone: reconnection after a lost connection', () => {
  const lose = () => fake.UserAgent.last.options.delegate.onDisconnect(new Error('WebSocket closed (code: 1006)'));

  it('backs off 1 s, 2 s, 4 s … up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(reconnectDelayMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(reconnectDelayMs(0)).toBe(1000);
  });

  it('reconnects and registers again with the same Registerer (same Contact)', async () => {
    vi.useFakeTimers();
    try {
      const phone = await registeredPhone();
      const ua = fake.UserAgent.last;
      const registerer = fake.Registerer.last;
      const seen: string[] = [];
      phone.addEventListener('registration', (e) => seen.push(`${(e as CustomEvent).detail.state}:${phone.reconnecting}`));
      lose();
      expect([phone.registration.state, phone.registration.reason]).toEqual(['failed', 'Connection to server lost']);
      expect(seen).toEqual(['failed:true']);
      await vi.advanceTimersByTimeAsync(999);
      expect(ua.reconnect).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(ua.reconnect).toHaveBeenCalledTimes(1);
      expect(fake.Registerer.last).toBe(registerer);
      expect(registerer.register).toHaveBeenCalledTimes(2);
      expect(phone.registration.state).toBe('registering');
      registerer.register.mock.calls[1][0].requestDelegate.onAccept();
      expect(phone.registration.state).toBe('registered');
      expect(phone.reconnecting).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps trying with growing delays while the server is down', async () => {
    vi.useFakeTimers();
    try {
      const phone = await registeredPhone();
      const ua = fake.UserAgent.last;
      fake.UserAgent.refuse = true;
      lose();
      await vi.advanceTimersByTimeAsync(1000);
      expect(ua.reconnect).toHaveBeenCalledTimes(1);
      expect([phone.registration.state, phone.registration.reason]).toEqual(['failed', 'Cannot reach the server (ws://gw.test/sip)']);
      await vi.advanceTimersByTimeAsync(1999);
      expect(ua.reconnect).toHaveBeenCalledTimes(1);
      fake.UserAgent.refuse = false;
      await vi.advanceTimersByTimeAsync(1);
      expect(ua.reconnect).toHaveBeenCalledTimes(2);
      expect(phone.registration.state).toBe('registering');
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops trying once signed out', async () => {
    vi.useFakeTimers();
    try {
      const phone = await registeredPhone();
      const ua = fake.UserAgent.last;
      lose();
      await phone.signOut();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(ua.reconnect).not.toHaveBeenCalled();
      expect(phone.registration.state).toBe('signed-out');
    } finally {
      vi.useRealTimers();
    }
  });
});
