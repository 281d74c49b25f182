// The SIPp harness's own test: every trunk-side scenario played against a SIPp UAC on loopback.
// Run inside a private network namespace: unshare -n sh -c 'ip link set lo up && npx vitest run …'
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sdpTransform from 'sdp-transform';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SipMessage } from '../../../gateway/sip/message/types.js';
import { freePort, freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { startProcess, stopAllProcesses } from '../../support/process.js';
import { checkTraceDigest, startSipp, type SippHandle, type SippOptions } from '../../support/sipp.js';
import type { SippTraceEntry } from '../../support/sipp-trace.js';

const traceDir = mkdtempSync(join(tmpdir(), 'sipp-harness-'));
const started: SippHandle[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((h) => h.stop()));
});
afterAll(stopAllProcesses);

async function sipp(o: Omit<SippOptions, 'traceDir'>): Promise<SippHandle> {
  const h = startSipp({ traceDir, ...o });
  started.push(h);
  await h.ready;
  return h;
}

/** Starts the trunk-side UAS, then the UAC calling it; resolves when both have exited. */
async function play(uas: Omit<SippOptions, 'traceDir' | 'localPort'>, uac: Omit<SippOptions, 'traceDir' | 'localPort'>) {
  const [uasPort, uacPort] = [await freeSipPort(), await freeSipPort()];
  const [uasMedia, uacMedia] = [await freeUdpPortPair(), await freeUdpPortPair()];
  const server = await sipp({ mediaPort: uasMedia.rtp, ...uas, localPort: uasPort });
  const client = await sipp({ mediaPort: uacMedia.rtp, service: '1000', ...uac, localPort: uacPort, remote: `127.0.0.1:${uasPort}` });
  const [serverExit, clientExit] = await Promise.all([server.exited, client.exited]);
  return { server, client, serverExit, clientExit, uasMedia };
}

const lines = (entries: SippTraceEntry[], direction: 'sent' | 'received') =>
  entries.filter((e) => e.direction === direction).map((e) => startLine(e.message));

function startLine(m: SipMessage): string {
  return m.kind === 'request' ? m.method : String(m.status);
}

const header = (m: SipMessage, name: string) => m.headers.find((x) => x.name === name)?.value;

describe('startSipp scenarios against a SIPp UAC', () => {
  it('uas-answer: answers with PCMU on its media port; the caller hangs up', async () => {
    const { server, serverExit, clientExit, uasMedia } = await play(
      { scenario: 'uas-answer' },
      { scenario: 'uac-call', set: { hangup_ms: 200 } },
    );
    expect(clientExit.code).toBe(0);
    expect(serverExit.code).toBe(0);
    const msgs = server.messages();
    expect(lines(msgs, 'received')).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(lines(msgs, 'sent')).toEqual(['100', '180', '200', '200']);
    const invite = msgs.find((e) => e.direction === 'received' && startLine(e.message) === 'INVITE')!.message;
    const offer = sdpTransform.parse(invite.body.toString());
    expect(offer.media[0]!.protocol).toBe('RTP/AVP');
    expect(offer.media[0]!.rtp.map((r) => r.codec)).toEqual(['PCMU', 'PCMA', 'telephone-event']);
    const ok = msgs.find((e) => e.direction === 'sent' && startLine(e.message) === '200')!.message;
    const answer = sdpTransform.parse(ok.body.toString());
    expect(answer.media[0]!.port).toBe(uasMedia.rtp);
    expect(answer.media[0]!.rtp[0]).toMatchObject({ payload: 0, codec: 'PCMU', rate: 8000 });
    expect(header(ok, 'Contact')).toMatch(/^<sip:trunk@127\.0\.0\.1:\d+;transport=UDP>$/);
  });

  it('uas-answer with hangup_ms: the trunk sends the BYE itself', async () => {
    const { server, serverExit, clientExit } = await play(
      { scenario: 'uas-answer', set: { hangup_ms: 200 } },
      { scenario: 'uac-call' },
    );
    expect([clientExit.code, serverExit.code]).toEqual([0, 0]);
    expect(lines(server.messages(), 'sent')).toEqual(['100', '180', '200', 'BYE']);
    const bye = server.messages().find((e) => startLine(e.message) === 'BYE')!.message;
    expect(header(bye, 'To')).toMatch(/;tag=\S+/);
    expect(header(bye, 'From')).toMatch(/;tag=\S+/);
  });

  it('uas-busy: 486 and the ACK', async () => {
    const { server, serverExit, clientExit } = await play({ scenario: 'uas-busy' }, { scenario: 'uac-busy' });
    expect([clientExit.code, serverExit.code]).toEqual([0, 0]);
    expect(lines(server.messages(), 'sent')).toEqual(['100', '486']);
    expect(lines(server.messages(), 'received')).toEqual(['INVITE', 'ACK']);
  });

  const authKeys = { auth_realm: 'trunk.test', auth_user: 'alice', auth_pass: 's3cret' };

  it('uas-auth: 407 challenge, then a Proxy-Authorization the test verifies', async () => {
    const { server, serverExit, clientExit } = await play(
      { scenario: 'uas-auth', keys: authKeys },
      { scenario: 'uac-auth', auth: { username: 'alice', password: 's3cret' }, set: { hangup_ms: 100 } },
    );
    expect([clientExit.code, serverExit.code]).toEqual([0, 0]);
    const msgs = server.messages();
    expect(lines(msgs, 'sent')).toEqual(['407', '100', '180', '200', '200']);
    const challenge = header(msgs.find((e) => startLine(e.message) === '407')!.message, 'Proxy-Authenticate');
    expect(challenge).toMatch(/^Digest realm="trunk\.test", nonce="[^"]+", algorithm=MD5, qop="auth"$/);
    const second = msgs.filter((e) => startLine(e.message) === 'INVITE')[1]!.message;
    expect(checkTraceDigest(second, 's3cret')).toMatchObject({ ok: true, credentials: { username: 'alice', realm: 'trunk.test' } });
    expect(checkTraceDigest(second, 'wrong')).toMatchObject({ ok: false, reason: 'response mismatch' });
  });

  it('uas-auth-www: a wrong password gets 403 and the call counts as failed', async () => {
    const { server, serverExit, clientExit } = await play(
      { scenario: 'uas-auth-www', keys: authKeys },
      // -nd: the refused test UAC must not send SIPp's default BYE when it gives up
      { scenario: 'uac-auth', auth: { username: 'alice', password: 'not-it' }, args: ['-nd'] },
    );
    expect(serverExit.code).toBe(1);
    expect(clientExit.code).toBe(1);
    expect(lines(server.messages(), 'sent')).toEqual(['401', '403']);
    expect(lines(server.messages(), 'received')).toEqual(['INVITE', 'ACK', 'INVITE', 'ACK']);
    expect(server.errors()).toMatch(/Failed regexp match/);
  });

  it('uas-auth-www: SIPp itself verifies the Authorization digest (RFC 3261 §22.2)', async () => {
    const { server, serverExit, clientExit } = await play(
      { scenario: 'uas-auth-www', keys: authKeys, set: { hangup_ms: 100 } },
      { scenario: 'uac-auth', auth: { username: 'alice', password: 's3cret' } },
    );
    expect([clientExit.code, serverExit.code]).toEqual([0, 0]);
    expect(lines(server.messages(), 'sent')).toEqual(['401', '100', '180', '200', 'BYE']);
  });

  it('uas-ring-cancel: 180, then CANCEL → 200 + 487, ACK', async () => {
    const { server, serverExit, clientExit } = await play(
      { scenario: 'uas-ring-cancel' },
      { scenario: 'uac-cancel', set: { cancel_ms: 200 } },
    );
    expect([clientExit.code, serverExit.code]).toEqual([0, 0]);
    const msgs = server.messages();
    expect(lines(msgs, 'received')).toEqual(['INVITE', 'CANCEL', 'ACK']);
    expect(lines(msgs, 'sent')).toEqual(['100', '180', '200', '487']);
    const r487 = msgs.find((e) => startLine(e.message) === '487')!.message;
    expect(header(r487, 'CSeq')).toBe('1 INVITE');
    const r200 = msgs.find((e) => startLine(e.message) === '200')!.message;
    expect(header(r200, 'CSeq')).toBe('1 CANCEL');
  });

  it('uas-silent: takes the INVITE (and its retransmissions) and never answers', async () => {
    const uasPort = await freeSipPort();
    const server = await sipp({ scenario: 'uas-silent', localPort: uasPort });
    const client = await sipp({ scenario: 'uac-silent', localPort: await freeSipPort(), service: '1000', remote: `127.0.0.1:${uasPort}` });
    expect((await client.exited).code).toBe(0);
    expect(server.running).toBe(true);
    const msgs = server.messages();
    expect(lines(msgs, 'sent')).toEqual([]);
    expect(lines(msgs, 'received').length).toBeGreaterThanOrEqual(2); // INVITE + Timer A retransmission
    expect(new Set(lines(msgs, 'received'))).toEqual(new Set(['INVITE']));
    const exit = await server.stop();
    expect(exit.signal).not.toBe('SIGKILL'); // SIPp honoured SIGTERM within the grace period
    expect(server.running).toBe(false);
  });

  it('uas-echo with rtpEcho: answers, and RTP sent to its media port comes back', async () => {
    const uasPort = await freeSipPort();
    const media = await freeUdpPortPair();
    const server = await sipp({ scenario: 'uas-echo', localPort: uasPort, mediaPort: media.rtp, rtpEcho: true, set: { hangup_ms: 300 } });
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const echoed = new Promise<Buffer>((r) => sock.once('message', (b) => r(b)));
    // RTP v2, PT 0, seq 1, ts 160, SSRC 0x11223344, 160 bytes of µ-law silence (0xFF)
    const packet = Buffer.concat([Buffer.from('80000001000000a011223344', 'hex'), Buffer.alloc(160, 0xff)]);
    sock.send(packet, media.rtp, '127.0.0.1');
    expect(await echoed).toEqual(packet);
    sock.close();
    const client = await sipp({ scenario: 'uac-call', localPort: await freeSipPort(), service: '1000', remote: `127.0.0.1:${uasPort}` });
    const [c, s] = await Promise.all([client.exited, server.exited]);
    expect([c.code, s.code]).toEqual([0, 0]);
    expect(lines(server.messages(), 'sent')).toEqual(['100', '180', '200', 'BYE']);
  });
});

/** True once `pid` has exited (no /proc entry, or a zombie awaiting its reaper); false after 2 s. */
async function gone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 2000;
  for (;;) {
    let state: string | undefined;
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    } catch {
      return true;
    }
    if (state === 'Z' || state === 'X') return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ports and processes', () => {
  it('freePort gives distinct bindable ports; freeUdpPortPair an even/odd pair', async () => {
    const ports = await freePort('udp', 3);
    expect(new Set(ports).size).toBe(3);
    expect(typeof (await freePort('tcp'))).toBe('number');
    const pair = await freeUdpPortPair();
    expect(pair.rtp % 2).toBe(0);
    expect(pair.rtcp).toBe(pair.rtp + 1);
  });

  it('startProcess: captures output tails, reports the exit code', async () => {
    const p = startProcess('sh', ['-c', 'echo hello; echo oops >&2; exit 3']);
    expect((await p.exited).code).toBe(3);
    expect(p.stdout()).toBe('hello\n');
    expect(p.stderr()).toBe('oops\n');
  });

  it('startProcess: stop() kills the whole process group', async () => {
    const p = startProcess('sh', ['-c', 'sleep 60 & echo $!; wait']);
    await new Promise<void>((r) => {
      const check = () => (p.stdout().includes('\n') ? r() : setTimeout(check, 10));
      check();
    });
    const grandchild = Number(p.stdout().trim());
    const exit = await p.stop();
    expect(exit.signal).toBe('SIGTERM');
    expect(await gone(grandchild)).toBe(true);
  });

  it('startProcess: a missing binary resolves exited with an error instead of throwing', async () => {
    const p = startProcess('/nonexistent/binary', []);
    const exit = await p.exited;
    expect(exit.error?.message).toMatch(/ENOENT/);
    expect(p.running).toBe(false);
  });
});
