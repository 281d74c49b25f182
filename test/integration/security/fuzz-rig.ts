// The transport fuzz rig (fuzz-transports.test.ts, bench/fuzz.ts): the gateway as its own process (so a
// crash, its descriptors and its memory are the gateway's own), probed through fuzz-probe.mjs (heap after
// GC, open descriptors, uncaught exceptions / unhandled rejections), and one driver per transport sending
// seeded mutated SIP messages from its own 127.0.30.x address: UDP datagrams, TCP streams cut at random
// boundaries, WebSocket messages (text and binary frames).
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import { startProcess, type ProcessHandle } from '../../support/process.js';
import { nextMessage, splitStream, type Rng } from './fuzz-mutate.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const GATEWAY_IP = '127.0.30.1';
export const FROM = { udp: '127.0.30.2', tcp: '127.0.30.3', ws: '127.0.30.4', check: '127.0.30.5' } as const;

export interface Probe {
  heapUsed: number;
  rss: number;
  fds: number;
}

export interface FuzzedGateway {
  proc: ProcessHandle;
  sipPort: number;
  httpPort: number;
  /** Heap after two full GCs, RSS and open descriptors, as the process itself reports them. */
  probe(): Promise<Probe>;
  /** Open descriptors, read from outside (/proc/<pid>/fd). */
  fds(): number;
  /** FUZZ-UNCAUGHT lines (uncaught exceptions, unhandled rejections). */
  uncaught(): string[];
  /** Log lines at error level or above (level "error" or "fatal"). */
  errors(): string[];
}

/** Starts `node --expose-gc --import fuzz-probe.mjs --import tsx gateway/main.ts` with the fuzz config:
 *  the rate limit off and the per-address caps raised, so the fuzz is not simply banned. */
export async function startFuzzedGateway(sipPort: number, httpPort: number): Promise<FuzzedGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-gw-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, stringify({
    http: { listen: `${GATEWAY_IP}:${httpPort}`, maxConnectionsPerAddress: 0 },
    sip: {
      listen: [`udp:${GATEWAY_IP}:${sipPort}`, `tcp:${GATEWAY_IP}:${sipPort}`],
      limits: { maxPerAddress: 100_000, maxConnections: 100_000, wsMessagesPerSecond: 0 },
    },
    media: { rtpPorts: '46400-46499', address: GATEWAY_IP },
    users: [{ name: 'alice', password: 'alice-secret' }],
    routes: [{ match: '^5551234$', echo: true }],
    security: { rateLimit: false },
    log: { level: 'warn' },
  }));
  const probeFile = join(import.meta.dirname, 'fuzz-probe.mjs');
  const proc = startProcess(process.execPath, ['--expose-gc', '--import', probeFile, '--import', 'tsx', 'gateway/main.ts', '--config', file], {
    cwd: ROOT, name: 'fuzzed-gateway', tailBytes: 8 << 20,
  });
  const gw: FuzzedGateway = {
    proc,
    sipPort,
    httpPort,
    async probe() {
      const before = proc.stderr().split('FUZZ-PROBE ').length;
      process.kill(proc.pid, 'SIGUSR2');
      const deadline = Date.now() + 10_000;
      for (;;) {
        const parts = proc.stderr().split('FUZZ-PROBE ');
        if (parts.length > before) return JSON.parse(parts.at(-1)!.split('\n')[0]!) as Probe;
        if (!proc.running || Date.now() > deadline) throw new Error(`no probe answer: ${proc.stderr().slice(-2000)}`);
        await sleep(20);
      }
    },
    fds: () => readdirSync(`/proc/${proc.pid}/fd`).length,
    uncaught: () => proc.stderr().split('\n').filter((l) => l.startsWith('FUZZ-UNCAUGHT')),
    errors: () => proc.stdout().split('\n').filter((l) => /"level":"(error|fatal)"/.test(l)),
  };
  await waitHttp(gw);
  return gw;
}

async function waitHttp(gw: FuzzedGateway): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      // The web server listens first; the SIP service is up once the status names its listening points.
      const res = await fetch(`http://${GATEWAY_IP}:${gw.httpPort}/api/status`);
      if (res.ok && ((await res.json()) as { sip?: { udp?: unknown } }).sip?.udp) return;
    } catch {
      // not listening yet
    }
    if (!gw.proc.running) throw new Error(`gateway exited: ${gw.proc.stderr().slice(-3000)}${gw.proc.stdout().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error('gateway not answering within 30 s');
    await sleep(50);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface DriveResult {
  /** Messages handed to the transport (UDP: sent datagrams; TCP: written to a stream; WS: sent messages). */
  sent: number;
  /** Bytes that came back. */
  bytesBack: number;
}

/** UDP: `count` datagrams from FROM.udp, paced (batches of 50 every 5 ms: about 10,000/s). A message over
 *  the datagram limit is not counted (the kernel refuses it) and another is drawn. */
export async function driveUdp(r: Rng, seeds: readonly Buffer[], port: number, count: number): Promise<DriveResult> {
  const socket = dgram.createSocket('udp4');
  let bytesBack = 0;
  socket.on('message', (d) => (bytesBack += d.length));
  await new Promise<void>((ok) => socket.bind(0, FROM.udp, () => ok()));
  let sent = 0;
  while (sent < count) {
    const batch: Array<Promise<boolean>> = [];
    for (let i = 0; i < 50 && sent + batch.length < count; i++) {
      const m = nextMessage(r, seeds);
      batch.push(m.length > 65_000 ? Promise.resolve(false) : new Promise((ok) => socket.send(m, port, GATEWAY_IP, (err) => ok(!err))));
    }
    sent += (await Promise.all(batch)).filter(Boolean).length;
    await sleep(5);
  }
  await sleep(200);
  await new Promise<void>((ok) => socket.close(() => ok()));
  return { sent, bytesBack };
}

/** `parallel` workers, each taking up to `perConnection` fresh messages at a time until `count` were taken
 *  and handing them to `connect` (which draws any further randomness at once, then resolves when that
 *  connection is over, counting what came back through `back`). */
async function connections(
  r: Rng,
  seeds: readonly Buffer[],
  count: number,
  perConnection: number,
  parallel: number,
  connect: (messages: Buffer[], back: (bytes: number) => void) => Promise<void>,
): Promise<DriveResult> {
  let sent = 0;
  let bytesBack = 0;
  const back = (bytes: number): void => {
    bytesBack += bytes;
  };
  const worker = async (): Promise<void> => {
    while (sent < count) {
      const messages = Array.from({ length: Math.min(perConnection, count - sent) }, () => nextMessage(r, seeds));
      sent += messages.length;
      await connect(messages, back);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { sent, bytesBack };
}

/** Resolves once `conn` closed; `kill` after `ms` if it has not; bytes it receives go to `back`. */
function closed(conn: net.Socket | WebSocket, kill: () => void, ms: number, back: (bytes: number) => void): Promise<void> {
  return new Promise<void>((done) => {
    const timer = setTimeout(kill, ms);
    conn.on(conn instanceof WebSocket ? 'message' : 'data', (d: Buffer) => back(d.length));
    conn.on('error', () => undefined);
    conn.once('close', () => {
      clearTimeout(timer);
      done();
    });
  });
}

/** TCP: connections of `perConnection` messages each (framing splits: random chunk boundaries), `parallel`
 *  at once, until `count` messages were written; each connection is half-closed, then destroyed once the
 *  gateway closed it or after 2 s. */
export async function driveTcp(r: Rng, seeds: readonly Buffer[], port: number, count: number, perConnection = 5, parallel = 8): Promise<DriveResult> {
  return connections(r, seeds, count, perConnection, parallel, (messages, back) => {
    const chunks = splitStream(r, messages);
    const socket = net.connect({ host: GATEWAY_IP, port, localAddress: FROM.tcp });
    socket.once('connect', () => {
      for (const c of chunks) if (!socket.destroyed) socket.write(c);
      socket.end();
    });
    return closed(socket, () => socket.destroy(), 2000, back);
  });
}

/** WebSocket: connections to /sip (subprotocol sip) of `perConnection` messages each, as text or binary
 *  frames at random, `parallel` at once, until `count` messages were sent; each then closed. */
export async function driveWs(r: Rng, seeds: readonly Buffer[], httpPort: number, count: number, perConnection = 20, parallel = 8): Promise<DriveResult> {
  return connections(r, seeds, count, perConnection, parallel, (messages, back) => {
    const binary = messages.map(() => r() < 0.5);
    const ws = new WebSocket(`ws://${GATEWAY_IP}:${httpPort}/sip`, 'sip', { localAddress: FROM.ws });
    ws.once('open', () => {
      messages.forEach((m, i) => ws.send(binary[i] ? m : m.toString('latin1'), { binary: binary[i] }));
      ws.close(1000);
    });
    return closed(ws, () => ws.terminate(), 3000, back);
  });
}

/** A well-formed OPTIONS over `transport` from FROM.check: the status of its answer (undefined: none in 10 s). */
export async function finalOptions(transport: 'udp' | 'tcp' | 'ws', gw: FuzzedGateway): Promise<number | undefined> {
  const via = transport === 'ws' ? 'SIP/2.0/WS fuzzcheck.invalid' : `SIP/2.0/${transport.toUpperCase()} ${FROM.check}:5099`;
  const text = [
    `OPTIONS sip:${GATEWAY_IP} SIP/2.0`, `Via: ${via};branch=z9hG4bK-final${transport};rport`, 'Max-Forwards: 70',
    `From: <sip:alice@${GATEWAY_IP}>;tag=final`, `To: <sip:${GATEWAY_IP}>`, `Call-ID: final-${transport}`, 'CSeq: 1 OPTIONS',
    `Contact: <sip:alice@${FROM.check}:5099>`, 'User-Agent: fuzz final check', 'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE',
    'Accept: application/sdp', 'Content-Length: 0', '', '',
  ].join('\r\n');
  const status = (d: Buffer | string): number => Number(/^SIP\/2\.0 (\d{3})/.exec(d.toString())?.[1]);
  const within = <T>(p: Promise<T>): Promise<T | undefined> => Promise.race([p, sleep(10_000).then(() => undefined)]);
  if (transport === 'udp') {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((ok) => socket.bind(5099, FROM.check, () => ok()));
    const answer = within(new Promise<number>((ok) => socket.once('message', (d) => ok(status(d)))));
    // RFC 3261 §17.1.2.2 Timer E: resent at T1 doubling (the socket buffer may still hold the fuzz backlog).
    let timer: NodeJS.Timeout | undefined;
    const resend = (wait: number): void => {
      socket.send(text, gw.sipPort, GATEWAY_IP);
      timer = setTimeout(() => resend(Math.min(wait * 2, 4000)), wait);
    };
    resend(500);
    const s = await answer;
    clearTimeout(timer);
    socket.close();
    return s;
  }
  if (transport === 'tcp') {
    const socket = net.connect({ host: GATEWAY_IP, port: gw.sipPort, localAddress: FROM.check });
    socket.on('error', () => undefined);
    const answer = within(new Promise<number>((ok) => socket.once('data', (d) => ok(status(d)))));
    socket.once('connect', () => socket.write(text));
    const s = await answer;
    socket.destroy();
    return s;
  }
  const ws = new WebSocket(`ws://${GATEWAY_IP}:${gw.httpPort}/sip`, 'sip', { localAddress: FROM.check });
  ws.on('error', () => undefined);
  const answer = within(new Promise<number>((ok) => ws.once('message', (d: Buffer) => ok(status(d)))));
  ws.once('open', () => ws.send(text));
  const s = await answer;
  ws.terminate();
  return s;
}
