// GET /api/me/calls (gateway/http/api/me.ts) on stand-in calls, through the real express router: a call
// between two users shows each of them their own side only — their own leg's Call-ID and figures as
// "you", never the other's Call-ID; a device token acts for its account; anyone else gets [] and wrong
// credentials 401 (the check is the one passed in, as /api/ice-servers uses).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { Call } from '../../../gateway/call/call.js';
import type { CallStart } from '../../../gateway/call/observer.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { DeviceTokens } from '../../../gateway/http/device-tokens.js';
import { createOperatorApi } from '../../../gateway/http/api/index.js';
import { createLogger } from '../../../gateway/log.js';
import type { CallQuality, LegQuality } from '../../../gateway/media/quality.js';
import type { MediaEngine } from '../../../gateway/media/types.js';
import { addSecrets, passwordCheck, realmOf } from '../../../gateway/sip/ua/credentials.js';

const config = configSchema.parse({ users: [{ name: 'alice', password: 'alice-pw-1' }, { name: 'bob', password: 'bob-pw-1' }, { name: 'carol', password: 'carol-pw-1' }] });
const tokens = new DeviceTokens({ realm: realmOf(config), isAccount: (n) => config.users.some((u) => u.name === n) });
addSecrets(config, tokens);
const user = (name: string) => ({ kind: 'user' as const, user: config.users.find((u) => u.name === name)! });

const dir = (lossPercent: number) => ({ packets: 100, expected: 100, lost: lossPercent, lossPercent, intervalLossPercent: lossPercent, jitterMs: 1, mos: 4.4 - lossPercent / 10 });
const leg = (tag: string, loss: number): LegQuality => ({ tag, profile: 'webrtc', codec: 'PCMU', in: dir(loss), out: dir(0), rttMs: 5, rtcpIn: 1, rtcpOut: 1, rtcpErrors: 0 });

/** alice (caller, Call-ID A) → bob (callee, Call-ID B), answered; the engine's figures by tag. */
function internalCall(): { call: Call; start: CallStart; engine: MediaEngine } {
  const session = { media: { key: 'k1' }, caller: { tag: 'ta', callId: 'A-callid@alice' }, callee: { tag: 'tb', callId: 'B-callid@gw' } };
  const call = { id: 'c1', state: 'answered', parties: { caller: user('alice'), callee: user('bob') }, session, caller: { invite: { headers: [] } }, onChange: () => () => undefined } as unknown as Call;
  const quality: CallQuality = { source: 'embedded', legs: [leg('ta', 0), leg('tb', 10)] };
  const engine = { quality: async () => quality } as unknown as MediaEngine;
  return { call, start: { direction: 'internal', callerUser: 'alice', callerNumber: 'alice', calleeUser: 'bob', calleeNumber: 'bob' }, engine };
}

const servers: http.Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function rig() {
  const { call, start, engine } = internalCall();
  const check = passwordCheck(config);
  const api = createOperatorApi({ config, logger: createLogger('silent'), status: () => ({}), service: () => undefined, media: () => engine, version: '1', checkPassword: (u, p) => check(u, p) });
  api.book.callStarted(call, start);
  const app = express().use('/api', api.router);
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  return async (name: string, password: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`http://127.0.0.1:${port}/api/me/calls`, { headers: { authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` } });
    return { status: res.status, body: await res.json() };
  };
}

describe('GET /api/me/calls', () => {
  it('a call between two users: each sees their own side, their own Call-ID, their own leg as "you"', async () => {
    const ask = await rig();
    const alice = await ask('alice', 'alice-pw-1');
    expect(alice).toMatchObject({ status: 200, body: [{ callId: 'A-callid@alice', side: 'caller', peer: 'bob', quality: { you: { in: { lossPercent: 0 } }, far: { in: { lossPercent: 10 } } } }] });
    expect(JSON.stringify(alice.body)).not.toContain('B-callid');
    const bob = await ask('bob', 'bob-pw-1');
    expect(bob).toMatchObject({ status: 200, body: [{ callId: 'B-callid@gw', side: 'callee', peer: 'alice', quality: { you: { in: { lossPercent: 10 } }, far: { in: { lossPercent: 0 } } } }] });
    expect(JSON.stringify(bob.body)).not.toContain('A-callid');
    // no tag of either leg
    expect(JSON.stringify([alice.body, bob.body])).not.toMatch(/"t[ab]"/);
  });

  it('a device token acts for its account; another user gets []; wrong or no credentials 401', async () => {
    const ask = await rig();
    const t = tokens.issue('alice');
    expect((await ask(t.username, t.token)).body).toEqual([expect.objectContaining({ callId: 'A-callid@alice' })]);
    expect(await ask('carol', 'carol-pw-1')).toEqual({ status: 200, body: [] });
    expect(await ask('alice', 'bob-pw-1')).toEqual({ status: 401, body: { error: 'wrong user or password' } });
    expect(await ask(t.username, 'not-the-token')).toMatchObject({ status: 401 });
    expect(await ask('mallory', 'x')).toMatchObject({ status: 401 });
  });
});
