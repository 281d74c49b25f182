// Reachability probes for the test bed (no ping in the image): a UDP/TCP echo server that answers
// with the source address it saw, and a one-shot client that prints the answer and who sent it.
import type { ProcessHandle } from '../process.js';
import type { NetBed } from './bed.js';
import { waitForProcessOutput } from './wait.js';

export type Proto = 'udp' | 'tcp';

const SERVER = `
const [proto, port] = process.argv.slice(1);
const log = (s) => console.log(s);
if (proto === 'udp') {
  const s = require('node:dgram').createSocket('udp4');
  s.on('message', (m, r) => { log('seen ' + r.address + ':' + r.port); s.send('seen ' + r.address + ':' + r.port, r.port, r.address); });
  s.bind(Number(port), '0.0.0.0', () => log('echo ready'));
} else {
  require('node:net').createServer((c) => {
    const who = 'seen ' + c.remoteAddress + ':' + c.remotePort;
    log(who); c.end(who); c.on('error', () => undefined);
  }).listen(Number(port), '0.0.0.0', () => log('echo ready'));
}
`;

const CLIENT = `
const [proto, host, port, ms] = process.argv.slice(1);
const done = (s) => { console.log(s); process.exit(0); };
setTimeout(() => done('timeout'), Number(ms));
if (proto === 'udp') {
  const s = require('node:dgram').createSocket('udp4');
  s.on('message', (m, r) => done('reply from ' + r.address + ': ' + m));
  s.on('error', (e) => done('error ' + e.code));
  s.send('probe', Number(port), host);
} else {
  const c = require('node:net').connect(Number(port), host);
  let data = '';
  c.on('data', (d) => { data += d; });
  c.on('end', () => done('reply from ' + c.remoteAddress + ': ' + data));
  c.on('error', (e) => done('error ' + e.code));
}
`;

/** Starts an echo server on 0.0.0.0:port inside `host`; its stdout logs "seen <ip>:<port>" per probe. */
export async function startEcho(bed: NetBed, host: string, proto: Proto, port: number): Promise<ProcessHandle> {
  const proc = bed.run(host, process.execPath, ['-e', SERVER, proto, String(port)], { name: `${host}: ${proto} echo ${port}` });
  await waitForProcessOutput(proc, /echo ready/, 10_000);
  return proc;
}

export interface ProbeResult {
  /** The address the answer came from, null when none came. */
  replyFrom: string | null;
  /** The source address the echo server saw ("ip:port"), null when none came. */
  seenAs: string | null;
  raw: string;
}

/** Sends one probe from `host` to address:port; resolves with what came back (timeoutMs: how long to wait). */
export async function probe(bed: NetBed, host: string, proto: Proto, address: string, port: number, timeoutMs = 1500): Promise<ProbeResult> {
  const raw = (await bed.exec(host, process.execPath, ['-e', CLIENT, proto, address, String(port), String(timeoutMs)])).trim();
  const m = /^reply from (\S+): seen (\S+)$/.exec(raw);
  return { replyFrom: m?.[1] ?? null, seenAs: m?.[2] ?? null, raw };
}
