// Item 3 and 7 of issue 8 on real sockets: the gateway (buildGateway) on 127.0.0.1, attackers, phones and
// a trunk each on their own 127.0.0.x. Password guessing gets a source and a user locked within
// security.authFailures.max, the right password is refused until the lockout ends with the very answer a
// wrong one gets; scanners get nothing back; a flood gets its source banned while the trunk is exempt; an
// HA1 user registers; every failure and ban is logged in the fixed format docs/fail2ban/ matches.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/security/brute-force.test.ts'
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { shape, SipUdpClient } from './sip-udp-client.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const FILTER = join(ROOT, 'docs', 'fail2ban', 'filter.d', 'webphone-gateway.conf');
const LOCKOUT_S = 3;
const BURST = 40;
const TRUNK_IP = '127.0.0.77';
const ha1 = (alg: string) => createHash(alg).update('carol:gateway:carol-secret').digest('hex');

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
    done();
  },
});
const msgs = (): string[] => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);

let gw: Gateway;
let sip: { address: string; port: number };
const peers: SipUdpClient[] = [];
const peer = async (ip: string): Promise<SipUdpClient> => {
  const p = await SipUdpClient.open(ip, sip);
  peers.push(p);
  return p;
};

beforeAll(async () => {
  const config = parseConfig(
    {
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0'] },
      media: { rtpPorts: '45100-45199' },
      users: [{ name: 'alice', password: 'alice-secret' }, { name: 'bob', password: 'bob-secret' }, { name: 'dave', password: 'dave-secret' }, { name: 'carol', password: { ha1: { realm: 'gateway', md5: ha1('md5'), sha256: ha1('sha256') } } }],
      trunks: [{ name: 'carrier', uri: `sip:${TRUNK_IP}:5060;transport=udp`, keepalive: false }],
      routes: [{ match: '^echo$', echo: true }],
      security: { authFailures: { max: 5, windowSeconds: 60, lockoutSeconds: LOCKOUT_S }, rateLimit: { requestsPerSecond: 10, burst: BURST }, ban: { seconds: 60 } },
    },
    'brute-force.yaml',
  );
  gw = buildGateway(config, { logger: createLogger('info', sink) });
  await gw.start();
  sip = gw.sipAddress('udp')!;
});

afterAll(async () => {
  for (const p of peers) await p.close();
  await gw?.stop();
});

describe('password guessing over UDP REGISTER', () => {
  it('locks source and user after authFailures.max; the right password is refused like a wrong one until the lockout ends', async () => {
    const attacker = await peer('127.0.0.66');
    const statuses: number[] = [];
    // Bounded: at most 30 guesses; the lock must come at the 5th failure.
    for (let guess = 0; guess < 30 && !msgs().includes(`auth locked: source=127.0.0.66 failures=5 seconds=${LOCKOUT_S}`); guess++) {
      statuses.push((await attacker.register('alice', `guess-${guess}`))!.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    expect(msgs()).toContain(`auth locked: user=alice failures=5 seconds=${LOCKOUT_S}`);
    expect(msgs().filter((m) => m.startsWith('auth failed: user=alice source=127.0.0.66 method=REGISTER reason=wrong-password'))).toHaveLength(5);
    const lockedAt = Date.now();

    // Unknown user and wrong password from a fresh source, the right password from the locked one: one shape.
    const other = await peer('127.0.0.67');
    const unknown = await other.register('mallory', 'x');
    const wrong = await other.register('bob', 'x');
    const locked = await attacker.register('alice', 'alice-secret');
    expect(shape(unknown)).toMatchObject({ status: 401, reason: 'Unauthorized' });
    expect(shape(wrong)).toEqual(shape(unknown));
    expect(shape(locked)).toEqual(shape(unknown));
    expect(msgs()).toContain('auth failed: user=alice source=127.0.0.66 method=REGISTER reason=locked');
    expect(msgs()).toContain('auth failed: user=mallory source=127.0.0.67 method=REGISTER reason=unknown-user');

    // The user is locked too: the right password from a third address is refused until the lockout ends.
    const phone = await peer('127.0.0.68');
    const refusedUntil: number[] = [];
    // Polled at 4/s (8 messages/s: below the source's rate limit).
    await expect
      .poll(
        async () => {
          const status = (await phone.register('alice', 'alice-secret'))?.status;
          if (status === 401) refusedUntil.push(Date.now() - lockedAt);
          return status;
        },
        { timeout: (LOCKOUT_S + 5) * 1000, interval: 250 },
      )
      .toBe(200);
    expect(Math.max(...refusedUntil)).toBeGreaterThanOrEqual(LOCKOUT_S * 1000 - 600);
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(LOCKOUT_S * 1000 - 300);
    await expect.poll(msgs, { timeout: 3000 }).toContain('auth unlocked: source=127.0.0.66');
    expect(msgs()).toContain('auth unlocked: user=alice');
  }, 30_000);

  it('INVITE: a wrong password (407 to Proxy-Authorization) is logged and counted the same way', async () => {
    const caller = await peer('127.0.0.72');
    const answer = await caller.authenticate('INVITE', 'bob', 'wrong');
    expect(answer).toMatchObject({ status: 407, reason: 'Proxy Authentication Required' });
    expect(msgs()).toContain('auth failed: user=bob source=127.0.0.72 method=INVITE reason=wrong-password');
  });

  it('a user whose password is stored as HA1 registers (MD5 over UDP)', async () => {
    const phone = await peer('127.0.0.69');
    expect((await phone.register('carol', 'carol-secret'))?.status).toBe(200);
    expect((await phone.register('carol', 'wrong'))?.status).toBe(401);
  });
});

describe('scanners and floods', () => {
  it('a scanner User-Agent gets no answer at all (0 bytes), the same request from a phone does', async () => {
    const p = await peer('127.0.0.70');
    expect((await p.exchange(p.request('OPTIONS')))?.status).toBeGreaterThanOrEqual(200);
    const before = p.bytesIn;
    for (const ua of ['friendly-scanner', 'sipvicious 0.3.4', 'sipcli/v1.8', 'VaxSIPUserAgent/3.1']) {
      expect(await p.exchange(p.request('OPTIONS', { userAgent: ua }), 700)).toBeUndefined();
      expect(await p.exchange(p.request('REGISTER', { userAgent: ua }), 300)).toBeUndefined();
    }
    expect(p.bytesIn).toBe(before);
  });

  it('a flood bans its source (then 0 bytes back), the trunk sending as much is never banned', async () => {
    const flood = await peer('127.0.0.71');
    const trunk = await peer(TRUNK_IP);
    const N = 150;
    const started = Date.now();
    // In rounds of 10 each, the next once the trunk's 10 are answered: a burst of datagrams bigger than the
    // socket buffers would be lost on the way in, whoever sends it.
    for (let i = 0; i < N; i += 10) {
      for (let j = 0; j < 10; j++) {
        flood.send(flood.request('OPTIONS'));
        trunk.send(trunk.request('OPTIONS'));
      }
      expect(await trunk.waitFor(i + 10, 5000)).toBe(i + 10);
    }
    await flood.waitFor(N, 300); // whatever is still on its way
    // The burst, plus what the bucket refilled (10/s) while the rounds went on; far from all 150.
    expect(flood.inbox.length).toBeGreaterThanOrEqual(BURST - 1);
    expect(flood.inbox.length).toBeLessThanOrEqual(BURST + 2 + Math.ceil(((Date.now() - started) / 1000) * 10));
    expect(flood.inbox.length).toBeLessThan(N / 2);
    expect(msgs()).toContain('source banned: source=127.0.0.71 reason=rate seconds=60');
    expect(msgs().some((m) => m.includes(`source=${TRUNK_IP}`))).toBe(false);
    const bytes = flood.bytesIn;
    expect(await flood.exchange(flood.request('OPTIONS'), 700)).toBeUndefined();
    expect(flood.bytesIn).toBe(bytes);
    expect((await trunk.exchange(trunk.request('OPTIONS')))?.status).toBeGreaterThanOrEqual(200);
  }, 20_000);
});

/** GET /api/ice-servers with HTTP Basic from `localAddress`: the status. */
function signIn(localAddress: string, user: string, password: string): Promise<number> {
  const url = new URL('api/ice-servers', gw.httpUrl);
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, headers: { authorization } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

describe('the page sign-in (GET /api/ice-servers, HTTP Basic)', () => {
  it('counts toward the same lockout: after 5 wrong passwords the right one is refused too', async () => {
    expect(await signIn('127.0.0.73', 'dave', 'dave-secret')).toBe(200);
    const wrong: number[] = [];
    for (let i = 0; i < 5; i++) wrong.push(await signIn('127.0.0.73', 'dave', `guess-${i}`));
    expect(wrong).toEqual([401, 401, 401, 401, 401]);
    expect(msgs()).toContain('auth failed: user=dave source=127.0.0.73 method=HTTP reason=wrong-password');
    expect(msgs()).toContain(`auth locked: source=127.0.0.73 failures=5 seconds=${LOCKOUT_S}`);
    expect(await signIn('127.0.0.73', 'dave', 'dave-secret')).toBe(401);
    expect(await signIn('127.0.0.74', 'dave', 'dave-secret')).toBe(401); // the user is locked as well
    expect(msgs()).toContain('auth failed: user=dave source=127.0.0.74 method=HTTP reason=locked');
  });
});

describe('docs/fail2ban filter', () => {
  it('fail2ban-regex matches every auth failure and ban the gateway logged, finding the right hosts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'f2b-'));
    const log = join(dir, 'gateway.log');
    writeFileSync(log, lines.join('\n') + '\n');
    const expected = msgs().filter((m) => (m.startsWith('auth failed: ') && !m.endsWith('reason=locked')) || m.startsWith('source banned: '));
    // 5 guesses, mallory, bob, bob's INVITE, carol's wrong password, the flood's ban, 5 HTTP guesses.
    expect(expected).toHaveLength(15);
    const summary = execFileSync('fail2ban-regex', [log, FILTER], { encoding: 'utf8' });
    expect(summary).toMatch(new RegExp(`Lines: ${lines.length} lines, 0 ignored, ${expected.length} matched`));
    const hosts = execFileSync('fail2ban-regex', ['-o', 'ip', log, FILTER], { encoding: 'utf8' }).trim().split('\n');
    const want = expected.map((m) => /source=(\S+)/.exec(m)![1]);
    expect(hosts).toEqual(want);
    // reason=locked is not matched: a phone whose user an attacker locked must not be firewalled.
    expect(new Set(hosts)).toEqual(new Set(['127.0.0.66', '127.0.0.67', '127.0.0.69', '127.0.0.71', '127.0.0.72', '127.0.0.73']));
  });
});
