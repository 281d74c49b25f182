// Shared set-up for the Phone tests. Each test file still declares
//   vi.mock('sip.js', async () => (await import('./fake-sipjs.js')).fakeSipJs);
// itself (vi.mock is hoisted per file); the mocked module then reaches this harness too.
import { beforeEach, expect, vi } from 'vitest';
import * as sip from 'sip.js';
import { controlState } from '../../../web/call-control.js';
import { Phone } from '../../../web/phone.js';
import { callLabel } from '../../../web/reasons.js';

export const fake = sip as any;
export const response = (statusCode: number, reasonPhrase = '') => ({ message: { statusCode, reasonPhrase } });
/** Lets queued microtasks (the Terminated hand-off) run. */
export const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export function newPhone(): Phone {
  return new Phone({ wsUrl: 'ws://gw.test/sip', defaultDomain: 'gw.test' });
}

export async function registeredPhone(): Promise<Phone> {
  const phone = newPhone();
  await phone.signIn({ user: 'alice', password: 'alice' });
  fake.Registerer.last.stateChange.emit('Registered');
  expect(phone.registration.state).toBe('registered');
  return phone;
}

/** What the page's call line says (as app.js renders it). */
export const callLine = (phone: Phone) => callLabel(phone.call.state, phone.call.reason, phone.peer, controlState(phone.control));

/** An established outgoing call to 1002; `calls` records the call machine's changes from then on. */
export async function establishedCall() {
  const phone = await registeredPhone();
  await phone.dial('1002');
  const inv = fake.Inviter.last;
  inv.stateChange.emit('Established');
  expect(callLine(phone)).toBe('In call with 1002');
  const calls: string[] = [];
  phone.addEventListener('call', (e) => calls.push((e as CustomEvent).detail.state));
  return { phone, inv, calls, ua: fake.UserAgent.last, registerer: fake.Registerer.last };
}

/** A fetch stand-in answering GET /api/ice-servers with `status` and `body`. */
export function answerIceServers(status: number, body: unknown = { iceServers: [], ttl: 0 }) {
  return vi.fn(async (_url: string, _init?: RequestInit) => Response.json(body, { status }));
}

/** Each test starts with a UserAgent that accepts connections, a gateway without TURN (no ICE servers),
 *  and sip.js's warnings silenced. */
export function resetFakeSipJsEachTest(): void {
  beforeEach(() => {
    fake.UserAgent.refuse = false;
    vi.stubGlobal('fetch', answerIceServers(200));
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
}
