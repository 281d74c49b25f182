// The page's transfer (web/transfer.js) against a scripted sip.js session: blind holds the call, REFERs,
// follows the NOTIFYs' sipfrag to the result and takes the call off hold again on a failure; attended
// REFERs with the other session (sip.js builds the Replaces); a refused REFER is the transfer's failure.
// The sipfrag status-line reader gets a seeded mutation test.
import { describe, expect, it } from 'vitest';
import { sipfragStatus, transferText, Transferor } from '../../../web/transfer.js';
import { rng } from '../../support/rng.js';

interface Notify { accept(): Promise<void>; request: { body: string } }
interface ReferOptions { requestDelegate: { onReject(r: { message: { statusCode: number; reasonPhrase: string } }): void }; onNotify(n: Notify): void }

/** A line with a scripted session: refer() records its target and options. */
function line(id: number, peer: string) {
  const holds: boolean[] = [];
  const l = {
    id,
    peer,
    ended: false,
    transferred: '',
    call: { state: 'in-call', reason: '' },
    control: {
      hold: { state: 'active' },
      async setHold(on: boolean) {
        holds.push(on);
        l.control.hold.state = on ? 'held' : 'active';
      },
    },
    holds,
    refers: [] as Array<{ target: unknown; options: ReferOptions }>,
    session: {
      dialog: {},
      refer: async (target: unknown, options: ReferOptions) => void l.refers.push({ target, options }),
    },
  };
  return l;
}

function phoneWith(...lines: Array<ReturnType<typeof line>>) {
  return {
    domain: 'example.test',
    lines: { current: lines.at(-1), get: (id: number) => lines.find((l) => l.id === id), live: () => lines.filter((l) => !l.ended) },
  };
}

const notify = (body: string): Notify & { accepted: number } => {
  const n = { accepted: 0, request: { body }, accept: async () => void n.accepted++ };
  return n;
};
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('web/transfer: sipfrag', () => {
  it('reads the status line of a message/sipfrag body', () => {
    expect(sipfragStatus('SIP/2.0 100 Trying\r\n')).toEqual({ code: 100, reason: 'Trying' });
    expect(sipfragStatus('SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n')).toEqual({ code: 486, reason: 'Busy Here' });
    expect(sipfragStatus('SIP/2.0 200')).toEqual({ code: 200, reason: '' });
    expect(sipfragStatus('')).toBeNull();
    expect(sipfragStatus('INVITE sip:a@b SIP/2.0')).toBeNull();
    expect(sipfragStatus('SIP/2.0 99 Low')).toBeNull();
    expect(sipfragStatus(undefined)).toBeNull();
  });

  it('seeded mutation: never throws; what it accepts re-serialises to the same status', () => {
    const random = rng(91);
    const seeds = ['SIP/2.0 100 Trying', 'SIP/2.0 180 Ringing\r\n', 'SIP/2.0 200 OK', 'SIP/2.0 486 Busy Here\r\nX: y'];
    const alphabet = 'SIP/2.0 123456789\r\n:;xyzOK \t';
    for (let i = 0; i < 3000; i++) {
      const chars = [...seeds[i % seeds.length]!];
      for (let k = 1 + Math.floor(random() * 4); k > 0; k--) {
        const at = Math.floor(random() * (chars.length + 1));
        const c = alphabet[Math.floor(random() * alphabet.length)]!;
        const op = random();
        if (op < 0.4) chars.splice(at, 1);
        else if (op < 0.7) chars.splice(at, 0, c);
        else chars[at] = c;
      }
      const text = chars.join('');
      const st = sipfragStatus(text);
      if (!st) continue;
      expect(st.code).toBeGreaterThanOrEqual(100);
      expect(st.code).toBeLessThanOrEqual(699);
      expect(sipfragStatus(`SIP/2.0 ${st.code} ${st.reason}`.trimEnd())).toEqual(st);
    }
  });

  it('says what is happening in words', () => {
    expect(transferText(100, 'Trying')).toBe('Transferring…');
    expect(transferText(180, 'Ringing')).toBe('Transferring… (ringing)');
    expect(transferText(200, 'OK')).toBe('Transferred');
    expect(transferText(486, 'Busy Here')).toBe('Transfer failed: Busy (486)');
  });
});

describe('web/transfer: Transferor', () => {
  it('blind: holds, REFERs to the number at the domain, follows the NOTIFYs; success marks the call transferred', async () => {
    const a = line(1, '5551234');
    let changes = 0;
    const t = new Transferor(phoneWith(a), { onChange: () => void changes++, makeUri: (s) => ({ uri: s }) });
    const outcome = t.blind('555 2222');
    await settle();
    expect(a.holds).toEqual([true]);
    expect(a.refers).toHaveLength(1);
    expect(a.refers[0]!.target).toEqual({ uri: 'sip:5552222@example.test' });
    const { onNotify } = a.refers[0]!.options;
    const trying = notify('SIP/2.0 100 Trying\r\n');
    onNotify(trying);
    onNotify(notify('SIP/2.0 180 Ringing\r\n'));
    expect(t.status.get(1)).toEqual({ state: 'trying', code: 180, text: 'Transferring… (ringing)' });
    onNotify(notify('SIP/2.0 200 OK\r\n'));
    expect(await outcome).toEqual({ ok: true, text: 'Transferred' });
    expect(trying.accepted).toBe(1);
    expect(a.transferred).toBe('Transferred');
    expect(a.holds).toEqual([true]); // not resumed: the gateway ends the call
    expect(changes).toBeGreaterThanOrEqual(3);
  });

  it('blind to a busy target: "Transfer failed: Busy (486)" and the call is taken off hold', async () => {
    const a = line(1, '5551234');
    const t = new Transferor(phoneWith(a), { onChange: () => undefined, makeUri: (s) => s });
    const outcome = t.blind('5552222');
    await settle();
    a.refers[0]!.options.onNotify(notify('SIP/2.0 486 Busy Here\r\n'));
    expect(await outcome).toEqual({ ok: false, text: 'Transfer failed: Busy (486)' });
    expect(a.holds).toEqual([true, false]);
    expect(a.transferred).toBe('');
  });

  it('a refused REFER (403) is the failure; a call already held stays held', async () => {
    const a = line(1, '5551234');
    a.control.hold.state = 'held';
    const t = new Transferor(phoneWith(a), { onChange: () => undefined, makeUri: (s) => s });
    const outcome = t.blind('5552222');
    await settle();
    a.refers[0]!.options.requestDelegate.onReject({ message: { statusCode: 403, reasonPhrase: 'Forbidden' } });
    expect(await outcome).toEqual({ ok: false, text: 'Transfer failed: Forbidden (403)' });
    expect(a.holds).toEqual([]);
  });

  it('attended: REFER in the current call with the other call\'s session; both calls are marked transferred', async () => {
    const a = line(1, '5551234');
    const b = line(2, '5552222');
    const t = new Transferor(phoneWith(a, b), { onChange: () => undefined, makeUri: (s) => s });
    expect(t.targets().map((l: { id: number }) => l.id)).toEqual([1]);
    const outcome = t.attended(1);
    await settle();
    expect(b.refers[0]!.target).toBe(a.session);
    b.refers[0]!.options.onNotify(notify('SIP/2.0 200 OK'));
    expect(await outcome).toEqual({ ok: true, text: 'Transferred' });
    expect([a.transferred, b.transferred]).toEqual(['Transferred', 'Transferred']);
  });

  it('refuses what cannot be transferred: no call, a bad number, a second transfer under way, an unknown other call', async () => {
    const a = line(1, '5551234');
    const t = new Transferor(phoneWith(a), { onChange: () => undefined, makeUri: (s) => s });
    await expect(t.blind('')).rejects.toThrow(/Enter a number/);
    await expect(t.attended(7)).rejects.toThrow(/No such call/);
    void t.blind('5552222');
    await settle();
    await expect(t.blind('5553333')).rejects.toThrow(/under way/);
    a.call.state = 'ended';
    await expect(new Transferor(phoneWith(a), { onChange: () => undefined, makeUri: (s) => s }).blind('1')).rejects.toThrow(/No call/);
  });
});
