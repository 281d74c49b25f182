// GET /api/ice-servers on a running gateway (buildGateway on loopback): Basic auth with a gateway user's own
// password, short-lived TURN REST credentials out, 401 without a browser prompt otherwise.
import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';

const ALICE = { name: 'alice', password: 'älice-secret:with-colon' };
const TURN = { urls: ['turn:203.0.113.40:3478?transport=udp', 'turn:203.0.113.40:3478?transport=tcp'], secret: 'shared-secret', ttl: 600 };

function gatewayWith(turn: typeof TURN | undefined, lines: string[] = []): Gateway {
  const config = parseConfig(
    {
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0'] },
      media: { rtpPorts: '43400-43499', address: '127.0.0.1' },
      users: [ALICE, { name: 'bob', password: 'bob-secret' }],
      ...(turn ? { turn } : {}),
    },
    'test.yaml',
  );
  const logger = pino<never>({ level: 'info', base: undefined }, { write: (s: string) => void lines.push(s) });
  return buildGateway(config, { logger });
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

async function ask(gw: Gateway, authorization?: string): Promise<Response> {
  return fetch(new URL('/api/ice-servers', gw.httpUrl), { headers: authorization ? { authorization } : {} });
}

describe('GET /api/ice-servers with a turn section', () => {
  const lines: string[] = [];
  const gw = gatewayWith(TURN, lines);
  beforeAll(() => gw.start());
  afterAll(() => gw.stop());

  it('answers a configured user with a TURN credential that validates against the shared secret', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await ask(gw, basic(ALICE.name, ALICE.password));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { iceServers: Array<{ urls: string[]; username: string; credential: string }>; ttl: number };
    expect(body.ttl).toBe(600);
    expect(body.iceServers).toHaveLength(1);
    const [server] = body.iceServers;
    expect(server!.urls).toEqual(TURN.urls);
    const [expiry, user] = server!.username.split(':');
    expect(user).toBe('alice');
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 600);
    // What coturn computes with use-auth-secret: base64(HMAC-SHA1(static-auth-secret, username)).
    expect(server!.credential).toBe(createHmac('sha1', TURN.secret).update(server!.username).digest('base64'));
    // The shared secret itself never reaches the browser.
    expect(JSON.stringify(body)).not.toContain(TURN.secret);
  });

  it.each([
    ['a wrong password', basic('alice', 'bob-secret')],
    ['an unknown user', basic('mallory', 'bob-secret')],
    ['no credentials', undefined],
    ['a Bearer token', 'Bearer abc'],
    ['garbage base64', 'Basic !!!'],
  ])('refuses %s with 401 JSON and no WWW-Authenticate: Basic', async (_what, authorization) => {
    const res = await ask(gw, authorization);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['error']);
  });

  it('logs a failed attempt at info with the source address, without the password', async () => {
    lines.length = 0;
    await ask(gw, basic('alice', 'not-her-password'));
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const failed = entries.find((e) => String(e.msg).includes('authentication failed'));
    expect(failed).toMatchObject({ level: 30, user: 'alice' });
    expect(String(failed!.source)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(lines.join('\n')).not.toContain('not-her-password');
  });
});

describe('GET /api/ice-servers without a turn section', () => {
  const gw = gatewayWith(undefined);
  beforeAll(() => gw.start());
  afterAll(() => gw.stop());

  it('answers a signed-in user with an empty list', async () => {
    const res = await ask(gw, basic('bob', 'bob-secret'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ iceServers: [], ttl: 0 });
  });

  it('still refuses bad credentials', async () => {
    expect((await ask(gw, basic('bob', 'alice'))).status).toBe(401);
  });
});
