// The gateway as a real process on a test-bed host, the way a user runs it:
// `node --import tsx gateway/main.ts --config <generated yaml>` inside the host's namespace. Ready when it
// logs "gateway started" (never a sleep); stop() sends SIGTERM (graceful stop). Its HTTP API is reached
// from the test through a Unix-socket relay (the test process is in no namespace of the bed).
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ProcessExit, ProcessHandle } from '../process.js';
import type { NetBed } from './bed.js';
import type { UnixForward } from './forward.js';
import { waitForProcessOutput } from './wait.js';

const REPO = resolve(import.meta.dirname, '..', '..', '..');

export interface GatewayProcess {
  readonly proc: ProcessHandle;
  readonly configFile: string;
  /** GET <path> on the gateway's HTTP port (inside its namespace); resolves with the parsed JSON body. */
  getJson(path: string): Promise<{ status: number; body: unknown }>;
  /** The last `chars` of stdout and stderr (pino JSON lines), for failure messages. */
  logTail(chars?: number): string;
  stop(): Promise<ProcessExit>;
}

function httpGet(fwd: UnixForward, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolveGet, reject) => {
    const req = request({ socketPath: fwd.path, path, method: 'GET', timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => {
        try {
          resolveGet({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolveGet({ status: res.statusCode ?? 0, body: text });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Writes `config` (the YAML document as an object) into the bed's scratch dir and starts the gateway on
 * `host`; `httpPort` is the port of config.http.listen.
 */
export async function startGatewayProcess(bed: NetBed, host: string, config: Record<string, unknown>, httpPort: number): Promise<GatewayProcess> {
  const configFile = join(bed.dir, `gateway-${host}.yaml`);
  writeFileSync(configFile, stringify(config));
  const proc = bed.run(host, process.execPath, ['--import', 'tsx', 'gateway/main.ts', '--config', configFile], {
    cwd: REPO,
    name: `gateway (${host})`,
    tailBytes: 512 * 1024,
  });
  const logTail = (chars = 6000): string => `--- gateway stdout\n${proc.stdout().slice(-chars)}\n--- gateway stderr\n${proc.stderr().slice(-chars)}`;
  await waitForProcessOutput(proc, /"msg":"gateway started"/, 60_000);
  const fwd = await bed.forward(host, httpPort);
  return {
    proc,
    configFile,
    getJson: (path) => httpGet(fwd, path),
    logTail,
    stop: () => proc.stop({ signal: 'SIGTERM', graceMs: 5000 }),
  };
}
