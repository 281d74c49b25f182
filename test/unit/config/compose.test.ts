// docker-compose.yml and .ci/Dockerfile are for users (Docker is not available here): check them by parsing,
// against the repository (every path they use exists) and against the configs they run (the ports and
// ranges the README says to open are the ones the mapped configs use).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parsePortRange, parseSipListen, splitHostPort } from '../../../gateway/config/load.js';

const repo = path.resolve(import.meta.dirname, '..', '..', '..');
const read = (file: string): string => readFileSync(path.join(repo, file), 'utf8');

interface Service {
  build?: { context: string; dockerfile: string };
  image?: string;
  command?: string[];
  volumes?: string[];
  network_mode?: string;
  init?: boolean;
  stop_signal?: string;
  stop_grace_period?: string;
  environment?: Record<string, string>;
  ports?: unknown;
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
const gateway = compose.services.gateway!;
const coturn = compose.services.coturn!;

/** Dockerfile instructions, continuation lines joined, comments dropped: [KEYWORD, arguments]. */
function instructions(text: string): Array<[string, string]> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [, keyword, args] = /^(\S+)\s+(.*)$/.exec(l)!;
      return [keyword!.toUpperCase(), args!];
    });
}

const dockerfile = instructions(read(gateway.build!.dockerfile));
const all = (keyword: string): string[] => dockerfile.filter(([k]) => k === keyword).map(([, a]) => a);
const one = (keyword: string): string => {
  const found = all(keyword);
  expect(found, keyword).toHaveLength(1);
  return found[0]!;
};

/** A volume "host:container[:ro]" whose container side is `target`. */
function mount(service: Service, target: string): { host: string; readOnly: boolean } {
  const v = service.volumes?.map((s) => s.split(':')).find(([, container]) => container === target);
  expect(v, `${target} is mounted`).toBeDefined();
  return { host: v![0]!, readOnly: v![2] === 'ro' };
}

const seconds = (d: string): number => {
  const m = /^(\d+)(s|m)$/.exec(d);
  expect(m, d).not.toBeNull();
  return Number(m![1]) * (m![2] === 'm' ? 60 : 1);
};

describe('.ci/Dockerfile', () => {
  it('is the build of the gateway service, in the repository', () => {
    expect(gateway.build).toEqual({ context: '.', dockerfile: '.ci/Dockerfile' });
    expect(existsSync(path.join(repo, gateway.build!.dockerfile))).toBe(true);
    expect(gateway.command).toBeUndefined(); // the image's CMD runs: nothing installed at start
  });

  it('installs the locked production dependencies at build time, before the sources (cache), on Node 20', () => {
    expect(one('FROM')).toBe('node:20-bookworm-slim');
    const steps = dockerfile.map(([k, a]) => `${k} ${a}`);
    const lock = steps.findIndex((s) => /^COPY .*package-lock\.json/.test(s));
    const ci = steps.findIndex((s) => /^RUN npm ci --omit=dev\b/.test(s));
    const sources = steps.findIndex((s) => s.startsWith('COPY gateway/'));
    expect(lock).toBeGreaterThanOrEqual(0);
    expect(ci).toBeGreaterThan(lock);
    expect(sources).toBeGreaterThan(ci);
    // The image's `npm run build` needs esbuild (the gateway bundle) and tsx (the page build script), so
    // --omit=dev must keep them; nothing compiles TypeScript when the gateway runs.
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.esbuild).toBeDefined();
    expect(pkg.dependencies.tsx).toBeDefined();
  });

  it('copies only what runs, and every source exists', () => {
    const sources = all('COPY').flatMap((a) => a.split(/\s+/).slice(0, -1));
    expect(sources.sort()).toEqual(['gateway/', 'package-lock.json', 'package.json', 'sip-config/', 'tsconfig.json', 'web/']);
    for (const s of sources) expect(existsSync(path.join(repo, s)), s).toBe(true);
  });

  it('runs as an unprivileged user, the built gateway on plain node in exec form, SIGTERM to stop', () => {
    expect(one('USER')).toBe('node');
    expect(all('ENTRYPOINT')).toEqual([]);
    const cmd = JSON.parse(one('CMD')) as string[]; // exec form: node is the process the signal reaches
    expect(cmd.slice(0, 3)).toEqual(['node', 'build/gateway/main.js', '--config']);
    // That file is what `npm run build` (run in the image after the sources are copied) writes.
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toContain('npm run build:gateway');
    // esbuild writes entry `main=gateway/main.ts` as <outdir>/main.js (the media worker beside it).
    const built = path.posix.parse(cmd[1]!);
    expect(pkg.scripts['build:gateway']).toContain(`${built.name}=gateway/main.ts`);
    expect(pkg.scripts['build:gateway']).toContain(`--outdir=${built.dir}`);
    const steps = dockerfile.map(([k, a]) => `${k} ${a}`);
    expect(steps.indexOf('RUN npm run build')).toBeGreaterThan(steps.findIndex((s) => s.startsWith('COPY gateway/')));
    expect(one('STOPSIGNAL')).toBe('SIGTERM');
  });

  it('has a healthcheck that GETs GATEWAY_STATUS_URL and fails on anything but 200', () => {
    const hc = one('HEALTHCHECK');
    const exec = JSON.parse(hc.slice(hc.indexOf('CMD ') + 4)) as string[];
    expect(exec.slice(0, 2)).toEqual(['node', '-e']);
    expect(exec[2]).toContain('process.env.GATEWAY_STATUS_URL');
    expect(exec[2]).toContain('statusCode===200?0:1');
    expect(hc).toMatch(/--timeout=\d+s/);
  });

  it('.dockerignore keeps node_modules and .git out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.git']));
  });
});

describe('docker-compose.yml: the gateway service', () => {
  const cmd = JSON.parse(one('CMD')) as string[];
  const configInContainer = cmd[cmd.indexOf('--config') + 1]!;
  const configMount = mount(gateway, configInContainer);
  const config = loadConfigFile(path.join(repo, configMount.host));

  it('maps a config from the repository read-only where the image looks for it, and it validates', () => {
    expect(configMount).toEqual({ host: './sip-config/gateway.yaml', readOnly: true });
    expect(config.http.listen).toBeDefined(); // loadConfigFile threw otherwise
  });

  it('runs under an init that forwards SIGTERM, with a grace long enough for BYEs and unregistration', () => {
    expect(gateway.init).toBe(true);
    expect(gateway.stop_signal ?? 'SIGTERM').toBe('SIGTERM');
    // The SIP service waits ≤ 4 s for BYE answers beside ≤ 5 s for the unregisters (RegisterClient).
    expect(seconds(gateway.stop_grace_period!)).toBeGreaterThanOrEqual(10);
    // The gateway's own deadline (shutdown.grace) ends before docker's SIGKILL.
    expect(config.shutdown.grace).toBeLessThan(seconds(gateway.stop_grace_period!));
  });

  it("points the healthcheck at the mapped config's http.listen (scheme and port)", () => {
    const url = new URL(gateway.environment!.GATEWAY_STATUS_URL!);
    const listen = splitHostPort(config.http.listen);
    expect(url.protocol).toBe(config.http.tls ? 'https:' : 'http:');
    expect(Number(url.port)).toBe(listen.port);
    expect(url.pathname).toBe('/api/status');
    // Host networking: 127.0.0.1 reaches a loopback or wildcard bind.
    expect(url.hostname).toBe('127.0.0.1');
    expect(['127.0.0.1', '0.0.0.0', '::']).toContain(listen.host);
  });

  it('uses host networking (SIP and the RTP range bound as configured), so publishes no ports', () => {
    expect(gateway.network_mode).toBe('host');
    expect(gateway.ports).toBeUndefined();
  });
});

describe('docker-compose.yml: the coturn service', () => {
  it('runs coturn on host networking with sip-config/turnserver.conf, read-only, as its config', () => {
    expect(coturn.image).toMatch(/^coturn\/coturn(:|$)/);
    expect(coturn.network_mode).toBe('host');
    const conf = mount(coturn, '/etc/coturn/turnserver.conf');
    expect(conf).toEqual({ host: './sip-config/turnserver.conf', readOnly: true });
    expect(existsSync(path.join(repo, conf.host))).toBe(true);
    const c = coturn.command!;
    expect(c[c.indexOf('-c') + 1]).toBe('/etc/coturn/turnserver.conf');
  });
});

describe('README "Deploying on a server" agrees with the configs docker-compose.yml runs', () => {
  const readme = read('README.md');
  const start = readme.indexOf('## Deploying on a server');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---'));
  const row = (key: string): string => {
    const found = rows.find((r) => r.includes(`\`${key}\``));
    expect(found, `a port row for ${key}`).toBeDefined();
    return found!;
  };
  const config = loadConfigFile(path.join(repo, 'sip-config', 'gateway.yaml'));
  const turn = Object.fromEntries(
    read('sip-config/turnserver.conf').split('\n').filter((l) => /^[a-z-]+=/.test(l)).map((l) => l.split('=', 2) as [string, string]),
  );

  it('exists', () => {
    expect(start).toBeGreaterThan(0);
  });

  it("names the mapped config's RTP range (TCP too with media.iceTcp, the default)", () => {
    const { from, to } = parsePortRange(config.media.rtpPorts);
    const protocols = config.media.iceTcp === false ? 'UDP' : 'UDP and TCP';
    expect(row('media.rtpPorts')).toMatch(new RegExp(`^\\| ${from}-${to} \\| ${protocols} \\|`));
  });

  it("names the mapped config's SIP port, UDP and TCP", () => {
    const ports = new Set(config.sip.listen.map((l) => parseSipListen(l)).filter((p) => p.transport !== 'tls').map((p) => p.port));
    expect([...ports]).toHaveLength(1);
    expect(row('sip.listen')).toMatch(new RegExp(`^\\| ${[...ports][0]} \\| UDP and TCP \\|`));
  });

  it("names turnserver.conf's listening port (UDP and TCP) and relay range", () => {
    expect(row('listening-port')).toMatch(new RegExp(`^\\| ${turn['listening-port']} \\| UDP and TCP \\|`));
    expect(row('min-port')).toMatch(new RegExp(`^\\| ${turn['min-port']}-${turn['max-port']} \\| UDP \\|`));
  });

  it('says how to run it with docker compose and links the TLS and TURN sections', () => {
    expect(section).toContain('docker compose up -d --build');
    expect(section).toContain('](#tls)');
    expect(section).toContain('](#turn-coturn)');
    expect(readme).toContain('\n## TLS\n');
    expect(readme).toContain('\n## TURN (coturn)\n');
  });
});
