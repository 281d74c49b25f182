// RFC 3262: UAS reliable 1xx (RSeq, T1-doubling retransmission until 64*T1, PRACK matching, final-response
// gating) and UAC detection, RAck and in-order checks. Fake clock, injected randomness.
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../gateway/sip/message/parser.js';
import { type SipRequest, type SipResponse, SipParseError } from '../../../gateway/sip/message/types.js';
import {
  PRACK_TIMEOUT_STATUS,
  ReliableProvisionalClient,
  ReliableProvisionalError,
  ReliableProvisionalServer,
  reliableMode,
  reliableRSeq,
} from '../../../gateway/sip/ua/reliable-provisional.js';

const BASE = ['Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1', 'From: <sip:a@192.0.2.1>;tag=a', 'Call-ID: rp1', 'Max-Forwards: 70'];

function req(method: string, cseq: string, extra: string[]): SipRequest {
  const lines = [`${method} sip:b@192.0.2.2 SIP/2.0`, ...BASE, 'To: <sip:b@192.0.2.2>;tag=b', `CSeq: ${cseq}`, ...extra, 'Content-Length: 0', '', ''];
  return parseMessage(Buffer.from(lines.join('\r\n'))) as SipRequest;
}
function res(status: number, extra: string[], toTag = 'b'): SipResponse {
  const lines = [`SIP/2.0 ${status} X`, ...BASE, `To: <sip:b@192.0.2.2>;tag=${toTag}`, 'CSeq: 7 INVITE', ...extra, 'Content-Length: 0', '', ''];
  return parseMessage(Buffer.from(lines.join('\r\n'))) as SipResponse;
}
const invite = (extra: string[]) => req('INVITE', '7 INVITE', extra);
const prack = (rack: string) => req('PRACK', '8 PRACK', [`RAck: ${rack}`]);

function server(extra: string[], start = 1000) {
  let t = 0;
  const clock = { now: () => t, set: (v: number) => (t = v) };
  const seen: Array<[number, number]> = [];
  const s = new ReliableProvisionalServer(invite(extra), {
    now: clock.now,
    t1: 500,
    randomInt: (min, max) => (seen.push([min, max]), start),
  });
  return { s, clock, seen };
}

describe('UAS', () => {
  it('Require/Supported 100rel decide; never a 100; RSeq drawn from 1..2^31-1 then +1', () => {
    expect(reliableMode(invite(['Require: 100rel']))).toBe('required');
    expect(reliableMode(invite(['Supported: timer, 100rel']))).toBe('supported');
    expect(reliableMode(invite([]))).toBe('none');
    const { s, seen } = server(['Supported: 100rel']);
    expect(seen).toEqual([[1, 2 ** 31 - 1]]);
    expect(s.shouldSendReliably(100)).toBe(false);
    expect(s.shouldSendReliably(183)).toBe(true);
    expect(server([]).s.shouldSendReliably(183)).toBe(false);
    const first = s.send(183, true);
    expect(first).toEqual({ rseq: 1000, headers: [{ name: 'Require', value: '100rel' }, { name: 'RSeq', value: '1000' }] });
    expect(s.onPrack(prack('1000 7 INVITE')).status).toBe(200);
    expect(s.send(180, false).rseq).toBe(1001);
  });

  it('whenSupported: false sends unreliably unless required', () => {
    const mk = (extra: string[]) => new ReliableProvisionalServer(invite(extra), { now: () => 0, whenSupported: false });
    expect(mk(['Supported: 100rel']).shouldSendReliably(180)).toBe(false);
    expect(mk(['Require: 100rel']).shouldSendReliably(180)).toBe(true);
  });

  it('no second reliable 1xx until the first is PRACKed', () => {
    const { s } = server(['Require: 100rel']);
    s.send(180, false);
    expect(s.canSendReliable()).toBe(false);
    expect(() => s.send(183, true)).toThrow(ReliableProvisionalError);
  });

  it('retransmits at T1, 2T1, 4T1 … and gives up with a 5xx at 64*T1', () => {
    const { s, clock } = server(['Require: 100rel']);
    s.send(183, true);
    const sends: number[] = [0];
    for (;;) {
      const [next] = s.timers();
      if (next === undefined) throw new Error('no timer');
      clock.set(next.at);
      if (next.action === 'give-up') {
        expect(next).toEqual({ action: 'give-up', at: 32_000, status: PRACK_TIMEOUT_STATUS });
        break;
      }
      sends.push(next.at);
      s.onRetransmitted();
    }
    expect(sends).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
  });

  it('PRACK matching by RAck: RSeq, CSeq number and method; else 481; a bad RAck is 400', () => {
    const { s } = server(['Require: 100rel'], 55);
    s.send(183, true);
    expect(s.onPrack(prack('56 7 INVITE')).status).toBe(481);
    expect(s.onPrack(prack('55 6 INVITE')).status).toBe(481);
    expect(s.onPrack(prack('55 7 UPDATE')).status).toBe(481);
    expect(s.onPrack(prack('55 7')).status).toBe(400);
    expect(s.onPrack(req('PRACK', '8 PRACK', [])).status).toBe(400);
    expect(s.timers()).toHaveLength(1);
    expect(s.onPrack(prack('55 7 INVITE'))).toEqual({ status: 200, acknowledged: { rseq: 55, status: 183, hasSdp: true } });
    expect(s.timers()).toEqual([]);
    expect(s.onPrack(prack('55 7 INVITE')).status).toBe(481);
  });

  it('a 2xx waits for the PRACK of a 1xx with SDP; a non-2xx, or a 1xx without SDP, does not', () => {
    const { s } = server(['Require: 100rel']);
    s.send(183, true);
    expect(s.canSendFinal(200)).toBe(false);
    expect(s.canSendFinal(486)).toBe(true);
    s.onPrack(prack('1000 7 INVITE'));
    expect(s.canSendFinal(200)).toBe(true);
    s.send(180, false);
    expect(s.canSendFinal(200)).toBe(true);
    s.onFinalSent();
    expect(s.timers()).toEqual([]);
    expect(s.shouldSendReliably(180)).toBe(false);
  });
});

describe('UAC', () => {
  it('detects a reliable 1xx (Require: 100rel + RSeq), ignores it on a 100, rejects a missing RSeq', () => {
    expect(reliableRSeq(res(183, ['Require: 100rel', 'RSeq: 9']))).toBe(9);
    expect(reliableRSeq(res(183, ['RSeq: 9']))).toBeUndefined();
    expect(reliableRSeq(res(100, ['Require: 100rel', 'RSeq: 9']))).toBeUndefined();
    expect(() => reliableRSeq(res(180, ['Require: 100rel']))).toThrow(SipParseError);
  });

  it('PRACKs in order with RAck from RSeq and CSeq; discards retransmissions and gaps, per dialog', () => {
    const c = new ReliableProvisionalClient();
    expect(c.onProvisional(res(180, []))).toEqual({ kind: 'unreliable' });
    expect(c.onProvisional(res(183, ['Require: 100rel', 'RSeq: 100']))).toEqual({
      kind: 'prack', rseq: 100, headers: [{ name: 'RAck', value: '100 7 INVITE' }],
    });
    expect(c.onProvisional(res(183, ['Require: 100rel', 'RSeq: 100']))).toEqual({ kind: 'discard', why: 'retransmission' });
    expect(c.onProvisional(res(180, ['Require: 100rel', 'RSeq: 102']))).toEqual({ kind: 'discard', why: 'out-of-order' });
    expect(c.onProvisional(res(180, ['Require: 100rel', 'RSeq: 101']))).toMatchObject({ kind: 'prack', rseq: 101 });
    expect(c.onProvisional(res(183, ['Require: 100rel', 'RSeq: 5'], 'fork2'))).toMatchObject({ kind: 'prack', rseq: 5 });
  });
});
