// Phone (web/phone.js) and GET /api/ice-servers: fetched at sign-in with the user's own credentials, handed to
// sip.js as the peer connection's iceServers, refreshed at half the credential's lifetime.
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('sip.js', async () => (await import('./fake-sipjs.js')).fakeSipJs);

import { iceServersUrl } from '../../../web/ice-servers.js';
import { answerIceServers, fake, newPhone, resetFakeSipJsEachTest } from './phone-harness.js';

resetFakeSipJsEachTest();
afterEach(() => vi.useRealTimers());

const TURN = (username: string) => ({
  iceServers: [{ urls: ['turn:203.0.113.40:3478?transport=udp', 'turn:203.0.113.40:3478?transport=tcp'], username, credential: `cred-${username}` }],
  ttl: 600,
});

function sdhOptionsOfLastUa() {
  return fake.UserAgent.last.options.sessionDescriptionHandlerFactoryOptions;
}

describe('web/phone: ICE servers from the gateway', () => {
  it('fetches them with Basic auth at sign-in and hands them to sip.js', async () => {
    const fetchMock = answerIceServers(200, TURN('1700000600:älice'));
    vi.stubGlobal('fetch', fetchMock);
    const before = fake.UserAgent.last;
    await newPhone().signIn({ user: 'alice', password: 'pä:ss' });
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe('http://gw.test/api/ice-servers');
    const auth = String((init!.headers as Record<string, string>).Authorization);
    expect(auth.startsWith('Basic ')).toBe(true);
    expect(Buffer.from(auth.slice(6), 'base64').toString('utf8')).toBe('alice:pä:ss');
    expect(fake.UserAgent.last).not.toBe(before);
    expect(sdhOptionsOfLastUa().peerConnectionConfiguration).toEqual({ iceServers: TURN('1700000600:älice').iceServers });
    // Relay candidates take an Allocate round trip: gathering waits longer than with host candidates only.
    expect(sdhOptionsOfLastUa().iceGatheringTimeout).toBeGreaterThan(1000);
  });

  it('asks https:// for a wss:// endpoint', () => {
    expect(iceServersUrl('wss://gw.example.com:8443/sip')).toBe('https://gw.example.com:8443/api/ice-servers');
  });

  it('a 401 fails the sign-in like a rejected REGISTER, before any connection', async () => {
    vi.stubGlobal('fetch', answerIceServers(401, { error: 'wrong user or password' }));
    const before = fake.UserAgent.last;
    const phone = newPhone();
    await phone.signIn({ user: 'alice', password: 'bad' });
    expect(phone.registration.state).toBe('failed');
    expect(phone.registration.reason).toBe('Wrong user or password (401)');
    expect(fake.UserAgent.last).toBe(before);
  });

  it('a network failure falls back to no ICE servers, says so in the log, and still registers', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const phone = newPhone();
    await phone.signIn({ user: 'alice', password: 'pw' });
    expect(sdhOptionsOfLastUa().peerConnectionConfiguration).toEqual({ iceServers: [] });
    expect(console.warn).toHaveBeenCalledWith(expect.stringContaining('Failed to fetch'));
    expect(phone.registration.state).toBe('registering');
  });

  it('fetches a fresh credential at half its lifetime while signed in, and stops on sign-out', async () => {
    vi.useFakeTimers();
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(Response.json(TURN('first')))
      .mockResolvedValueOnce(Response.json(TURN('second')))
      .mockResolvedValue(Response.json(TURN('third')));
    vi.stubGlobal('fetch', fetchMock);
    const phone = newPhone();
    await phone.signIn({ user: 'alice', password: 'pw' });
    const options = sdhOptionsOfLastUa();
    await vi.advanceTimersByTimeAsync(299_000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    // The very object sip.js reads at each new session now carries the new credential.
    expect(sdhOptionsOfLastUa()).toBe(options);
    expect(options.peerConnectionConfiguration.iceServers[0].username).toBe('second');
    await phone.signOut();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('keeps the current servers when a refresh fails, and tries again', async () => {
    vi.useFakeTimers();
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(Response.json(TURN('first')))
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockResolvedValue(Response.json(TURN('third')));
    vi.stubGlobal('fetch', fetchMock);
    await newPhone().signIn({ user: 'alice', password: 'pw' });
    await vi.advanceTimersByTimeAsync(300_000);
    expect(sdhOptionsOfLastUa().peerConnectionConfiguration.iceServers[0].username).toBe('first');
    await vi.advanceTimersByTimeAsync(300_000);
    expect(fetchMock).toHaveBeenCalledTimes(3);
    expect(sdhOptionsOfLastUa().peerConnectionConfiguration.iceServers[0].username).toBe('third');
  });
});
