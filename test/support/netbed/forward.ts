// Reaching a TCP service inside a namespace from the test process, which sits in no namespace of
// the bed (nothing is joined to it, so no packet can leave): a small Node relay runs inside the
// namespace and listens on a Unix socket file — files are shared across network namespaces — and
// pipes each connection to host:port there. The test connects with net.connect(path) or
// http.request({ socketPath }).
import { join } from 'node:path';
import { startProcess, type ProcessHandle } from '../process.js';
import { waitForProcessOutput } from './wait.js';

const RELAY = `
const net = require('node:net');
const [path, host, port] = process.argv.slice(1);
net.createServer((c) => {
  const s = net.connect(Number(port), host);
  c.pipe(s); s.pipe(c);
  c.on('error', () => s.destroy()); s.on('error', () => c.destroy());
  c.on('close', () => s.destroy()); s.on('close', () => c.destroy());
}).listen(path, () => console.log('relay listening'));
`;

export interface UnixForward {
  /** The Unix socket file to connect to. */
  path: string;
  proc: ProcessHandle;
}

/** Starts the relay in `ns` (socket file in `dir`); resolves once it listens. */
export async function forwardToUnix(ns: string, dir: string, host: string, port: number): Promise<UnixForward> {
  const path = join(dir, `fwd-${host}-${port}.sock`);
  const proc = startProcess(process.execPath, ['-e', RELAY, path, host, String(port)], { name: `relay ${ns} ${host}:${port}`, netns: ns });
  await waitForProcessOutput(proc, /relay listening/, 10_000);
  return { path, proc };
}
