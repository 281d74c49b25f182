// A lost connection mid-call (issue 7 item 7) on fake timers: an answered call is kept for
// calls.reconnectGrace; a re-INVITE of the same dialog over a new connection moves that side there; else
// BYE with Reason "Connection lost" to the other leg when the grace runs out. Unanswered calls end at once.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getCallId, getFrom, getHeader, getTo } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { FakeFlow, settle, sip, type FakeServerTx } from './fakes.js';
import { setup, testConfig } from './harness.js';
import { BROWSER_ANSWER, inboundConfig, setupInbound } from './inbound-harness.js';

const LOST = 'SIP;cause=480;text="Connection lost"';

afterEach(() => {
  vi.useRealTimers();
});

let seq = 0;

/** The browser's re-INVITE in the call's dialog (To tag = the gateway's), over `flow`. */
function browserReinvite(s: ReturnType<typeof setup>, inviteTx: FakeServerTx, flow: FakeFlow): FakeServerTx {
  const toTag = getTo(inviteTx.responses.find((r) => r.status === 200)!).params.tag;
  const req = sip(`INVITE sip:gateway@127.0.0.1:8080;transport=ws SIP/2.0
    Via: SIP/2.0/WS br.invalid;branch=z9hG4bKre${++seq}
    Max-Forwards: 70
    From: <sip:alice@gw.test>;tag=btag
    To: <sip:x@gw.test>;tag=${toTag}
    Call-ID: browser-call
    CSeq: ${5000 + seq} INVITE
    Contact: <sip:xyz@br.invalid;transport=ws>`);
  return s.transactions.deliver(req, flow);
}

/** An answered, ACKed call (grace 10 s) whose browser connection was lost and came back as `fresh` with a
 *  re-INVITE of the dialog, `afterMs` into the grace. */
async function reconnected(afterMs = 0) {
  vi.useFakeTimers();
  const s = setup(testConfig({ calls: { reconnectGrace: 10 } }));
  const tx = await s.answered({ ack: true });
  s.flow.close();
  vi.advanceTimersByTime(afterMs);
  const fresh = new FakeFlow('ws-2');
  const re = browserReinvite(s, tx, fresh);
  await settle();
  return { s, fresh, re };
}

/** The 10 s grace: no BYE a millisecond before it ends, then whatever its end sends. */
async function graceRunsOut(s: { transactions: { method(m: string): unknown[] } }): Promise<void> {
  vi.advanceTimersByTime(9_999);
  expect(s.transactions.method('BYE')).toHaveLength(0);
  vi.advanceTimersByTime(1);
  await settle();
}

const byes = (s: { transactions: { method(m: string): Array<{ request: SipRequest; dest: unknown }> } }) => s.transactions.method('BYE');

describe('the caller\'s connection is lost mid-call', () => {
  it('nothing happens within the grace; then BYE with Reason "Connection lost" to the trunk, media freed', async () => {
    vi.useFakeTimers();
    const s = setup(testConfig({ calls: { reconnectGrace: 10 } }));
    await s.answered({ ack: true });
    s.flow.close();
    await settle();
    vi.advanceTimersByTime(9_999);
    expect(byes(s)).toHaveLength(0);
    expect(s.media.deleted).toHaveLength(0);
    expect(s.service.status().calls).toBe(1);
    vi.advanceTimersByTime(1);
    await settle();
    const bye = byes(s);
    expect(bye.map((b) => b.dest === s.flow)).toEqual([false]); // none over the dead connection
    expect(getHeader(bye[0]!.request, 'Reason')).toBe(LOST);
    expect(s.media.deleted).toHaveLength(1);
    expect(s.service.status().calls).toBe(0);
  });

  it('reconnectGrace 0: BYE with the Reason at once', async () => {
    const s = setup(testConfig({ calls: { reconnectGrace: 0 } }));
    await s.answered({ ack: true });
    s.flow.close();
    await settle();
    expect(byes(s).map((b) => getHeader(b.request, 'Reason'))).toEqual([LOST]);
    expect(s.service.status().calls).toBe(0);
  });

  it('a re-INVITE of the dialog over a new connection within the grace keeps the call; later requests go there', async () => {
    const { s, fresh, re } = await reconnected(5_000);
    expect(re.responses.length).toBeGreaterThan(0); // answered by the session policy, on the new flow's tx
    vi.advanceTimersByTime(60_000);
    expect(byes(s)).toHaveLength(0);
    expect(s.service.status().calls).toBe(1);
    // The trunk hangs up: the BYE to the browser goes over the new connection.
    s.trunkBye();
    await settle();
    expect(byes(s).map((b) => b.dest)).toEqual([fresh]);
    expect(s.service.status().calls).toBe(0);
  });

  it('the new connection lost too: a fresh grace, then BYE with the Reason', async () => {
    const { s, fresh } = await reconnected();
    fresh.close();
    await graceRunsOut(s);
    expect(byes(s).map((b) => getHeader(b.request, 'Reason'))).toEqual([LOST]);
  });

  it('a half-open old connection (not yet noticed closed) is replaced by a re-INVITE over a new one', async () => {
    const s = setup(testConfig({ calls: { reconnectGrace: 10 } }));
    const tx = await s.answered({ ack: true });
    const fresh = new FakeFlow('ws-2');
    browserReinvite(s, tx, fresh);
    await settle();
    s.flow.close(); // the old one's close, noticed late, no longer matters
    expect(s.service.status().calls).toBe(1);
    s.trunkBye();
    await settle();
    expect(byes(s).map((b) => b.dest)).toEqual([fresh]);
  });

  it('while the call is unanswered, a closed connection ends it at once (480, CANCEL to the trunk)', async () => {
    vi.useFakeTimers();
    const s = setup(testConfig({ calls: { reconnectGrace: 10 } }));
    s.invite('5551234');
    await settle();
    s.trunkResponds(180);
    await settle();
    s.flow.close();
    await settle();
    expect(s.transactions.method('CANCEL')).toHaveLength(1);
    expect(s.service.status().calls).toBe(0);
  });
});

/** Fork n's re-INVITE (the callee browser) in its dialog with the gateway, over `flow`. */
function forkReinvite(s: ReturnType<typeof setupInbound>, n: number, flow: FakeFlow): FakeServerTx {
  const invite = s.sentInvite(n).request;
  const req = sip(`INVITE sip:gateway@127.0.0.1:8080;transport=ws SIP/2.0
    Via: SIP/2.0/WS fork.invalid;branch=z9hG4bKfr${++seq}
    Max-Forwards: 70
    From: <sip:alice@gw.test>;tag=fork${n}
    To: <sip:x@gw.test>;tag=${getFrom(invite).params.tag}
    Call-ID: ${getCallId(invite)}
    CSeq: ${7000 + seq} INVITE
    Contact: <sip:fork${n}@fork${n}.invalid;transport=ws>`);
  return s.transactions.deliver(req, flow);
}

describe('the called browser\'s connection is lost mid-call', () => {
  async function answeredInbound() {
    const s = setupInbound(inboundConfig({ calls: { reconnectGrace: 10 } }));
    const tab = s.register('alice', 'pa', 'tab1');
    const tx = s.trunkInvite('+15550100');
    await settle();
    s.forkResponds(0, 200, { body: BROWSER_ANSWER });
    await settle();
    s.callerInDialog('ACK', tx);
    return { s, tab, tx };
  }

  it('the trunk gets BYE with the Reason only after the grace', async () => {
    vi.useFakeTimers();
    const { s, tab } = await answeredInbound();
    tab.close();
    await graceRunsOut(s);
    const toTrunk = byes(s).filter((b) => b.dest === s.trunkFlow);
    expect(toTrunk.map((b) => getHeader(b.request, 'Reason'))).toEqual([LOST]);
    expect(s.service.status().calls).toBe(0);
  });

  it('a re-INVITE from the callee over a new connection keeps the call; the trunk\'s BYE reaches it there', async () => {
    vi.useFakeTimers();
    const { s, tab, tx } = await answeredInbound();
    tab.close();
    const fresh = new FakeFlow('ws-new');
    forkReinvite(s, 0, fresh);
    await settle();
    vi.advanceTimersByTime(60_000);
    expect(s.service.status().calls).toBe(1);
    s.callerInDialog('BYE', tx); // the trunk hangs up
    await settle();
    // Each promise hop of the invite client's BYE (its remote target) resolves on settle().
    await settle();
    expect(byes(s).map((b) => b.dest)).toEqual([fresh]);
  });
});
