// Production start: `npm run build` (also run by `npm ci`, through "prepare") writes the gateway bundle,
// and `npm start` runs it on plain Node — no tsx, no TypeScript compiler in the running process. Checked
// on the real process tree `npm start` makes: its node process's command line and environment.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort, freeSipPort } from '../../support/ports.js';
import { startProcess, stopAllProcesses } from '../../support/process.js';
import { ROOT } from './production-gateway.js';
import { USER } from '../call/harness.js';
import { frame, rtpPacket, startTrunk, until } from '../media/peers.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { mediaAddress, rtpSdp } from '../../support/ws-session.js';

afterAll(stopAllProcesses);

/** Every descendant of `pid` (from /proc/<pid>/task/<tid>/children). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number): void => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      const kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      for (const k of kids) {
        out.push(k);
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

const argv = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const environ = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);

/** A WebSocket phone's call to the echo line: its RTP comes back. */
async function echoCall(url: string): Promise<void> {
  const client = await WsSipClient.connect({ url, user: USER.name, password: USER.password });
  const rtp = await startTrunk();
  try {
    const call = client.invite('*43', { sdp: rtpSdp(rtp.port) });
    const final = await call.final;
    expect(final.status).toBe(200);
    const to = mediaAddress(final.body.toString('utf8'));
    for (let seq = 1; seq <= 20; seq++) rtp.socket.send(rtpPacket(seq, frame(seq)).serialize(), to.port, to.address);
    await until(() => rtp.rtp.length >= 10, 5000, 'the echoed RTP');
    expect((await call.bye()).status).toBe(200);
  } finally {
    await rtp.close();
    await client.close();
  }
}

describe('production start', () => {
  it('npm run build writes build/gateway/main.js; npm start runs it on plain node, without tsx; an echo call\'s media runs in a media worker', async () => {
    const bundle = join(ROOT, 'build', 'gateway', 'main.js');
    const startedBuild = Date.now();
    execFileSync('npm', ['run', '--silent', 'build:gateway'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    expect(existsSync(bundle)).toBe(true);
    expect(statSync(bundle).mtimeMs).toBeGreaterThanOrEqual(startedBuild - 1000);
    // JavaScript, every gateway module inside it, only packages outside (node_modules).
    const code = readFileSync(bundle, 'utf8');
    expect(code).toContain('// gateway/main.ts');
    expect(code).not.toMatch(/from "(\.{1,2}\/[^"]*|[^"]*\.ts)"/);

    const dir = mkdtempSync(join(tmpdir(), 'production-'));
    const file = join(dir, 'gateway.yaml');
    const http = await freePort('tcp');
    writeFileSync(file, stringify({
      http: { listen: `127.0.110.1:${http}` },
      sip: { listen: [`udp:127.0.110.1:${await freeSipPort()}`] },
      media: { rtpPorts: '44300-44399', address: '127.0.110.1' },
      users: [USER],
      routes: [{ match: '^\\*43$', echo: true }],
      log: { level: 'info' },
    }));
    const npm = startProcess('npm', ['start', '--', '--config', file], { cwd: ROOT, name: 'npm-start' });
    await expect.poll(() => npm.stdout(), { timeout: 20_000, interval: 50 }).toContain('"msg":"gateway started"');
    const res = await fetch(`http://127.0.110.1:${http}/api/status`);
    expect(res.status).toBe(200);
    await echoCall(`ws://127.0.110.1:${http}/sip`);
    // the echo's media ran in a media worker thread (media.workers auto: build/gateway/media-worker.js)
    const echoLine = npm.stdout().split('\n').find((l) => l.includes('"msg":"media echo"') && !l.includes('"callId":"warm-up-'));
    expect(JSON.parse(echoLine!)).toMatchObject({ worker: expect.any(Number) });

    // The process that serves: the one node below npm running the bundle.
    const nodes = descendants(npm.pid).filter((p) => argv(p)[0] === process.execPath || argv(p)[0]?.endsWith('/node') || argv(p)[0] === 'node');
    const gateway = nodes.filter((p) => argv(p).some((a) => a.endsWith('build/gateway/main.js')));
    expect(gateway).toHaveLength(1);
    const pid = gateway[0]!;
    expect(argv(pid).slice(1)).toEqual(['build/gateway/main.js', '--config', file]);
    // No loader on the command line, none through NODE_OPTIONS, no child (a compiler service) below it.
    expect(argv(pid).join(' ')).not.toMatch(/tsx|--import|--loader|--experimental-loader/);
    const nodeOptions = environ(pid).find((e) => e.startsWith('NODE_OPTIONS=')) ?? '';
    expect(nodeOptions).not.toMatch(/tsx|--import|--loader/);
    expect(descendants(pid)).toEqual([]);

    // SIGTERM to the gateway: a graceful stop, exit 0, which npm passes on.
    process.kill(pid, 'SIGTERM');
    expect(await npm.exited).toEqual({ code: 0, signal: null });
    expect(npm.stdout()).toContain('"msg":"stopping"');
  });
});
