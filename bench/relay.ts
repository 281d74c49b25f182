// RTP relay load: N calls, each with two endpoints (A = caller, B = callee) on loopback UDP sockets,
// each sending one 172-byte G.711 packet every 20 ms through the engine to the other. Measures the
// engine process's CPU time per relayed packet (from /proc), its resident memory, and the loss.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { write as sdpWrite, parse as sdpParse } from 'sdp-transform';
import type { BenchEngine } from './engines.js';

export interface RelayResult {
  engine: string;
  calls: number;
  seconds: number;
  sent: number;
  received: number;
  cpuMs: number;
  usPerPacket: number;
  rssMiB: number;
}

interface Endpoint {
  socket: dgram.Socket;
  port: number;
  target?: { address: string; port: number };
  received: number;
  seq: number;
  packet: Buffer;
}

const TICKS_PER_SECOND = 100; // Linux USER_HZ

function procCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND; // utime + stime
}

function procRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

function rtpSdp(port: number, sessionId: number): string {
  return sdpWrite({
    version: 0,
    origin: { username: '-', sessionId, sessionVersion: 1, netType: 'IN', ipVer: 4, address: '127.0.0.1' },
    name: '-',
    connection: { version: 4, ip: '127.0.0.1' },
    timing: { start: 0, stop: 0 },
    media: [{ type: 'audio', port, protocol: 'RTP/AVP', payloads: '0', rtp: [{ payload: 0, codec: 'PCMU', rate: 8000 }], direction: 'sendrecv', ptime: 20 } as never],
  });
}

function portOf(sdp: string): { address: string; port: number } {
  const s = sdpParse(sdp);
  const m = s.media[0]!;
  return { address: m.connection?.ip ?? s.connection?.ip ?? '127.0.0.1', port: m.port };
}

async function endpoint(ssrc: number): Promise<Endpoint> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const packet = Buffer.alloc(172, 0xff);
  packet[0] = 0x80;
  packet[1] = 0;
  packet.writeUInt32BE(ssrc, 8);
  const ep: Endpoint = { socket, port: socket.address().port, received: 0, seq: 0, packet };
  socket.on('message', () => ep.received++);
  return ep;
}

function sendOne(ep: Endpoint): void {
  ep.seq = (ep.seq + 1) & 0xffff;
  ep.packet.writeUInt16BE(ep.seq, 2);
  ep.packet.writeUInt32BE((ep.seq * 160) >>> 0, 4);
  ep.socket.send(ep.packet, ep.target!.port, ep.target!.address);
}

async function setupCall(engine: BenchEngine, i: number): Promise<[Endpoint, Endpoint]> {
  const a = await endpoint(0x1000 + i);
  const b = await endpoint(0x8000 + i);
  const callId = `bench-${i}`;
  const toB = await engine.offer(callId, 'a', rtpSdp(a.port, i + 1));
  b.target = portOf(toB);
  const toA = await engine.answer(callId, 'a', 'b', rtpSdp(b.port, i + 100001));
  a.target = portOf(toA);
  return [a, b];
}

export async function runRelay(engine: BenchEngine, calls: number, seconds: number): Promise<RelayResult> {
  const pairs: Array<[Endpoint, Endpoint]> = [];
  for (let i = 0; i < calls; i++) pairs.push(await setupCall(engine, i));
  const all = pairs.flat();
  // Warm-up: one second of traffic so latching and JIT settle before measuring.
  const tick = (): void => all.forEach(sendOne);
  let timer = setInterval(tick, 20);
  await new Promise((r) => setTimeout(r, 1000));
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 200)); // the warm-up's last packets land before counting starts
  all.forEach((ep) => (ep.received = 0));
  const cpu0 = procCpuMs(engine.pid);
  const started = Date.now();
  let ticks = 0;
  timer = setInterval(() => {
    tick();
    ticks++;
  }, 20);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 200)); // let the last packets land
  const cpuMs = procCpuMs(engine.pid) - cpu0;
  await engine.settle();
  const rssMiB = procRssMiB(engine.pid);
  const sent = ticks * all.length;
  const received = all.reduce((n, ep) => n + ep.received, 0);
  for (let i = 0; i < calls; i++) await engine.delete(`bench-${i}`);
  all.forEach((ep) => ep.socket.close());
  return {
    engine: engine.name,
    calls,
    seconds: (Date.now() - started) / 1000,
    sent,
    received,
    cpuMs,
    usPerPacket: (cpuMs * 1000) / Math.max(received, 1),
    rssMiB,
  };
}

/** Memory per call: `calls` calls set up (offer + answer) with no traffic, resident memory read before and
 *  after (after a full collection for a garbage-collected engine). Many calls, so the per-call figure is not
 *  lost in the noise of a runtime's heap sizing. */
export async function idleMemoryPerCallKiB(engine: BenchEngine, calls: number): Promise<number> {
  await engine.settle();
  const before = procRssMiB(engine.pid);
  for (let i = 0; i < calls; i++) {
    const toB = await engine.offer(`idle-${i}`, 'a', rtpSdp(20000 + 2 * (i % 10000), i + 1));
    await engine.answer(`idle-${i}`, 'a', 'b', rtpSdp(portOf(toB).port, i + 200001));
  }
  await engine.settle();
  const after = procRssMiB(engine.pid);
  for (let i = 0; i < calls; i++) await engine.delete(`idle-${i}`);
  return ((after - before) * 1024) / calls;
}
