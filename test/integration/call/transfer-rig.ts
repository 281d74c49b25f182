// The test bed of the transfer integration tests: a gateway with two trunks — 'sipp' (the far party, a
// SIPp UAS) and 'target' (a second SIPp, where numbers 7xxx go) — a WebSocket phone (plain RTP) that
// places calls, sends REFER in a call's dialog and answers the gateway's NOTIFYs, and a UDP socket at
// each media end counting numbered frames (rtp-end.ts).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect } from 'vitest';
import { createResponse, getCSeq, getHeader, newBranch } from '../../../gateway/sip/message/index.js';
import type { HeaderField, SipMessage, SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import { until } from '../media/peers.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { SCENARIO_DIR, startSipp, type SippHandle } from '../../support/sipp.js';
import { WsSipClient, type OutgoingCall } from '../../support/ws-sip-client.js';
import { mediaAddress, rtpSdp } from '../../support/ws-session.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { startGatewayWith, TRUNK_CREDENTIALS, USER, type TestGateway } from './harness.js';
import { RtpEnd } from './rtp-end.js';

export const text = (m: { body: Buffer }): string => m.body.toString('utf8');

export interface Party {
  sipp: SippHandle;
  rtp: RtpEnd;
  port: number;
}

/** A SIPp UAS running `scenario` (a file name in test/support/sipp) whose SDP names its own RTP end. */
export async function startParty(traceDir: string, scenario: string, base: number, set: Record<string, string | number> = {}): Promise<Party> {
  const port = await freeSipPort();
  const rtp = await RtpEnd.open(base);
  const media = await freeUdpPortPair();
  const file = join(SCENARIO_DIR, `${scenario}.xml`);
  // -set only the globals the scenario declares (SIPp refuses others)
  const own: Record<string, number> = readFileSync(file, 'utf8').includes('trunk_rtp') ? { trunk_rtp: rtp.port } : {};
  const sipp = startSipp({ scenarioFile: file, localPort: port, mediaPort: media.rtp, traceDir, set: { ...own, ...set } });
  await sipp.ready;
  return { sipp, rtp, port };
}

export interface PartyBed {
  /** The SIPp trace folder of the test file. */
  traceDir: string;
  /** Run after each test, last first; a failing one does not stop the others. */
  cleanups: Array<() => Promise<unknown>>;
  /** startParty in this bed, stopped after the test. */
  party(scenario: string, base: number, set?: Record<string, string | number>): Promise<Party>;
}

/** A test file's bed (call at its top level): a trace folder named `prefix`, the cleanups run after each
 *  test and every process stopped after the file. */
export function partyBed(prefix: string): PartyBed {
  const traceDir = mkdtempSync(join(tmpdir(), prefix));
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  afterAll(stopAllProcesses);
  const party = async (scenario: string, base: number, set: Record<string, string | number> = {}): Promise<Party> => {
    const p = await startParty(traceDir, scenario, base, set);
    cleanups.push(() => p.sipp.stop(), () => p.rtp.close());
    return p;
  };
  return { traceDir, cleanups, party };
}

/** SIPp ran its scenario to the end (exit 0); its error log goes to stderr otherwise. */
export async function exitedCleanly(sipp: SippHandle): Promise<void> {
  const { code } = await sipp.exited;
  if (code !== 0) process.stderr.write(`SIPp exited ${code}: ${sipp.errors().slice(-2000)}\n`);
  expect(code).toBe(0);
}

/** The gateway: 7xxx → the target trunk, other numbers → the far party's trunk (`refer` its REFER policy). */
export async function startTransferGateway(far: number, target: number, refer: 'honour' | 'refuse' = 'refuse'): Promise<TestGateway> {
  const config = configSchema.parse({
    sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] },
    media: { rtpPorts: '44000-44999', address: '127.0.0.1' },
    users: [USER],
    trunks: [
      { name: 'sipp', uri: `sip:127.0.0.1:${far}`, ...TRUNK_CREDENTIALS, keepalive: false, refer },
      { name: 'target', uri: `sip:127.0.0.1:${target}`, keepalive: false },
    ],
    routes: [
      { match: '^7\\d{3}$', trunk: 'target' },
      { match: '^\\+?\\d{4,15}$', trunk: 'sipp' },
    ],
    calls: { ringTimeout: 10 },
    log: { level: 'silent' },
  });
  return startGatewayWith(config);
}

/** Messages of `label` (a method or a status) SIPp received, in order. */
export function received(sipp: SippHandle, label: string): SipMessage[] {
  return sipp
    .messages()
    .filter((e) => e.direction === 'received')
    .map((e) => e.message)
    .filter((m) => (m.kind === 'request' ? m.method : String(m.status)) === label);
}

/** The phone: a WebSocket client that answers every NOTIFY 200 and keeps them. */
export class Phone {
  readonly notifies: SipRequest[] = [];

  private constructor(readonly client: WsSipClient) {
    client.onMessage((m) => {
      if (m.kind !== 'request' || m.method !== 'NOTIFY') return;
      this.notifies.push(m);
      client.send(createResponse(m, 200, 'OK'));
    });
  }

  static async connect(url: string): Promise<Phone> {
    return new Phone(await WsSipClient.connect({ url, user: USER.name, password: USER.password }));
  }

  /** A call with plain RTP at `rtp`; resolves once answered. */
  async call(number: string, rtp: RtpEnd): Promise<{ call: OutgoingCall; ok: SipResponse }> {
    const call = this.client.invite(number, { sdp: rtpSdp(rtp.port) });
    const ok = await call.final;
    if (ok.status !== 200) throw new Error(`call to ${number}: ${ok.status}`);
    return { call, ok };
  }

  /** REFER in the dialog of `ok` (our call's 2xx); resolves with its final response. */
  refer(call: OutgoingCall, ok: SipResponse, referTo: string, extra: HeaderField[] = []): Promise<SipResponse> {
    const target = /<([^>]+)>/.exec(getHeader(ok, 'Contact') ?? '')![1]!;
    const req = this.client.request('REFER', target, {
      callId: call.callId,
      to: getHeader(ok, 'To')!,
      branch: newBranch(),
      extra: [{ name: 'Contact', value: this.client.contact }, { name: 'Refer-To', value: referTo }, ...extra],
    });
    return this.client.transact(req);
  }

  /** The sipfrag status lines of the NOTIFYs received in call `callId`, in order. */
  sipfrags(callId: string): string[] {
    return this.notifies.filter((n) => getHeader(n, 'Call-ID') === callId).map((n) => text(n).trim());
  }

  async waitSipfrag(callId: string, line: string): Promise<void> {
    await until(() => this.sipfrags(callId).includes(line), 15_000, `NOTIFY "${line}"`);
  }

  byes(callId: string): SipRequest[] {
    return this.client.received.filter((m): m is SipRequest => m.kind === 'request' && m.method === 'BYE' && getHeader(m, 'Call-ID') === callId);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Media both ways between `a` (sending where `aSdp` says) and `b` (sending where `bSdp` says). */
export async function flowing(a: RtpEnd, aDest: string, b: RtpEnd, bDest: string, what: string): Promise<void> {
  a.start(mediaAddress(aDest));
  b.start(mediaAddress(bDest));
  await b.waitFrames(a, a.next, 25, `${what}: → far`);
  await a.waitFrames(b, b.next, 25, `${what}: ← far`);
}

/** The phone (closed after the test) calls 5551234 from a new RTP end (`mic`), answered by `far` (the
 *  gateway's 'sipp' trunk); resolves once media flows both ways. */
export async function phoneCallToFar(
  gw: TestGateway,
  far: Party,
  cleanups: PartyBed['cleanups'],
): Promise<{ phone: Phone; mic: RtpEnd; call: OutgoingCall; ok: SipResponse }> {
  const phone = await Phone.connect(gw.wsUrl);
  cleanups.push(() => phone.close());
  const mic = await RtpEnd.open(0);
  cleanups.push(() => mic.close());
  const { call, ok } = await phone.call('5551234', mic);
  await flowing(mic, text(ok), far.rtp, text(await inviteTo(far.sipp)), 'phone ⇄ far party');
  return { phone, mic, call, ok };
}

/** The SDP SIPp received last (the INVITE the gateway sent it). */
export async function inviteTo(sipp: SippHandle): Promise<SipRequest> {
  await until(() => received(sipp, 'INVITE').length > 0, 10_000, 'the INVITE at SIPp');
  return received(sipp, 'INVITE')[0] as SipRequest;
}

export const cseqMethod = (m: SipMessage): string => getCSeq(m).method;
