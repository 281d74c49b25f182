// The REGISTER client against a real registrar: Debian Kamailio with digest auth, on loopback, over the
// gateway's real transport and transaction layers.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createTransactionLayer } from '../../../gateway/sip/transaction/index.js';
import type { TransactionLayer } from '../../../gateway/sip/transaction/types.js';
import { createTransport } from '../../../gateway/sip/transport/index.js';
import type { SipTransport } from '../../../gateway/sip/transport/types.js';
import { RegisterClient } from '../../../gateway/upstream/register-client.js';
import type { RegState } from '../../../gateway/upstream/states.js';
import { startKamailio, type KamailioHandle } from '../../support/kamailio.js';

const logger = createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent');
let kam: KamailioHandle;
let transport: SipTransport;
let transactions: TransactionLayer;
const clients: RegisterClient[] = [];

beforeAll(async () => {
  kam = await startKamailio({ accounts: { alice1: 'alice-pbx-secret', trunkacct: 'trunk-pw' } });
  transport = await createTransport({ listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }], logger });
  transactions = createTransactionLayer({ transport, logger });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
});
afterAll(async () => {
  transactions?.close();
  await transport?.close();
  await kam?.stop();
});

function client(password: string, contactUser: string, expires = 600): RegisterClient {
  const c = new RegisterClient({
    registrar: kam.uri,
    username: 'alice1',
    password,
    expires,
    contactUser,
    transport,
    transactions,
    logger,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  clients.push(c);
  return c;
}

/** Resolves when the client reaches `state` (it reports no events: polled, bounded by the test timeout). */
async function reach(c: RegisterClient, state: RegState): Promise<void> {
  while (c.state !== state) await new Promise((r) => setTimeout(r, 20));
}

describe('REGISTER client ↔ Kamailio', () => {
  it("registers with digest: Kamailio's location table holds our Contact; stop() removes it", async () => {
    const c = client('alice-pbx-secret', 'gwint1');
    c.start();
    await reach(c, 'registered');
    const contacts = await kam.registeredContacts('alice1');
    const port = transport.localAddress('udp')!.port;
    expect(contacts.map((x) => x.address)).toEqual([`sip:gwint1@127.0.0.1:${port}`]);
    expect(contacts[0]!.expires).toBeGreaterThan(500);
    expect(c.status().expiresAt).toBeDefined();
    await c.stop();
    expect(c.state).toBe('stopped');
    expect(await kam.registeredContacts('alice1')).toEqual([]);
  });

  it('a wrong password: bad credentials, retrying, nothing registered', async () => {
    const c = client('wrong', 'gwint2');
    c.start();
    await reach(c, 'retrying');
    expect(c.status()).toEqual({ state: 'retrying', lastError: 'bad credentials' });
    expect(await kam.registeredContacts('alice1')).toEqual([]);
  });

  it('asks for less than min_expires → 423 with Min-Expires → registers with that interval', async () => {
    const strict = await startKamailio({ accounts: { alice1: 'pw' }, minExpires: 900 });
    try {
      // What went out and came back, in order: "REGISTER Expires: n" / response status.
      const seen: string[] = [];
      const spy: Pick<TransactionLayer, 'sendRequest'> = {
        sendRequest: (req, dest, handlers) => {
          seen.push(`REGISTER ${req.headers.find((h) => h.name === 'Expires')?.value}`);
          return transactions.sendRequest(req, dest, { ...handlers, onResponse: (res) => (seen.push(String(res.status)), handlers.onResponse(res)) });
        },
      };
      const c = new RegisterClient({ registrar: strict.uri, username: 'alice1', password: 'pw', expires: 120, contactUser: 'gwint3', transport, transactions: spy, logger });
      clients.push(c);
      c.start();
      await reach(c, 'registered');
      expect(seen).toEqual(['REGISTER 120', '401', 'REGISTER 120', '423', 'REGISTER 900', '401', 'REGISTER 900', '200']);
      const [contact] = await strict.registeredContacts('alice1');
      expect(contact!.expires).toBeGreaterThan(800);
      await c.stop();
    } finally {
      await strict.stop();
    }
  });
});
