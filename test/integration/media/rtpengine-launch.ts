// Start a userspace rtpengine (--table=-1: no kernel forwarding) on loopback for a test, on a free ng
// port and a random port range; stop it by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { NgClient } from '../../../gateway/media/rtpengine/ng-client.js';

export interface Rtpengine {
  /** The address its ng socket and media listen on. */
  address: string;
  ngPort: number;
  /** rtpengine's PID (stop() signals exactly this process). */
  pid: number;
  /** Its RTP ports are portMin…portMin+199. */
  portMin: number;
  stop(): Promise<void>;
}

export async function freeUdpPort(address = '127.0.0.1'): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface RtpengineLaunchOptions {
  /** The one loopback address rtpengine's media and ng socket use (default 127.0.0.1). */
  address?: string;
  /** Extra command-line options (e.g. a higher --log-level while debugging). */
  args?: string[];
}

export async function startRtpengine(opts: RtpengineLaunchOptions = {}): Promise<Rtpengine> {
  const address = opts.address ?? '127.0.0.1';
  const ngPort = await freeUdpPort(address);
  const portMin = 40000 + 2 * Math.floor(Math.random() * 5000);
  const child = spawn(
    '/usr/bin/rtpengine',
    ['--table=-1', `--interface=${address}`, `--listen-ng=${address}:${ngPort}`, `--port-min=${portMin}`,
      `--port-max=${portMin + 199}`, '--foreground', '--log-stderr', '--log-level=4', ...(opts.args ?? [])],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const ng = new NgClient({ host: address, port: ngPort }, 200);
  try {
    for (let i = 0; ; i++) {
      try {
        await ng.request({ command: 'ping' });
        break;
      } catch (err) {
        if (i > 50 || child.exitCode !== null) throw new Error(`rtpengine did not start: ${stderr || (err as Error).message}`);
      }
    }
  } catch (err) {
    await stopChild(child);
    throw err;
  } finally {
    ng.close();
  }
  return { address, ngPort, pid: child.pid!, portMin, stop: () => stopChild(child) };
}
