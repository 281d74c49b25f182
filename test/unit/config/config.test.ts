import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig, parsePortRange, parseSipListen } from '../../../gateway/config/load.js';

const repo = path.resolve(import.meta.dirname, '..', '..', '..');

function writeYaml(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gwcfg-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, text);
  return file;
}

function problemsOf(fn: () => unknown): { message: string; problems: string[] } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return { message: (err as ConfigError).message, problems: (err as ConfigError).problems };
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('loads the embedded default: loopback only, demo users, an echo route', () => {
    const cfg = loadConfigFile(path.join(repo, 'sip-config', 'gateway.yaml'));
    expect(cfg.http.listen).toBe('127.0.0.1:8080');
    expect(cfg.sip.listen.map(parseSipListen).every((l) => l.address === '127.0.0.1')).toBe(true);
    expect(cfg.media.address).toBe('127.0.0.1');
    expect(cfg.users.map((u) => u.name)).toEqual(['alice', 'bob']);
    expect(cfg.trunks).toEqual([]);
    const echo = cfg.routes.find((r) => 'echo' in r);
    expect(echo && new RegExp(echo.match).test('*43')).toBe(true);
  });

  it('fills defaults for an empty file', () => {
    const cfg = parseConfig({}, 'empty.yaml');
    expect(cfg.http.listen).toBe('127.0.0.1:8080');
    expect(parsePortRange(cfg.media.rtpPorts)).toEqual({ from: 20000, to: 20999 });
    expect(cfg.sip.listen.map(parseSipListen)).toEqual([
      { transport: 'udp', address: '127.0.0.1', port: 5060 },
      { transport: 'tcp', address: '127.0.0.1', port: 5060 },
    ]);
  });

  it('names the file and the key of a bad value', () => {
    const file = writeYaml('http:\n  listen: "localhost"\nmedia:\n  rtpPorts: "3000"\n');
    const { message, problems } = problemsOf(() => loadConfigFile(file));
    expect(message.startsWith(file)).toBe(true);
    expect(problems.some((p) => p.startsWith('http.listen:') && p.includes('host:port'))).toBe(true);
    expect(problems.some((p) => p.startsWith('media.rtpPorts:'))).toBe(true);
  });

  it('rejects a route to an unknown trunk, naming routes[i].trunk', () => {
    const { problems } = problemsOf(() =>
      parseConfig({ routes: [{ match: '^1', echo: true }, { match: '^2', trunk: 'nope' }] }, 'x.yaml'),
    );
    expect(problems).toContain('routes[1].trunk: no trunk named "nope" in trunks');
  });

  it('rejects unknown keys, bad regexes, duplicate users and missing passwords', () => {
    const { problems } = problemsOf(() =>
      parseConfig(
        {
          sip: { lisen: [] },
          routes: [{ match: '(', echo: true }],
          users: [{ name: 'a', password: 'x' }, { name: 'a', password: 'y' }, { name: 'b' }],
        },
        'x.yaml',
      ),
    );
    expect(problems.some((p) => p.includes('sip') && p.includes('"lisen"'))).toBe(true);
    expect(problems.some((p) => p.startsWith('routes[0]'))).toBe(true);
    expect(problems.some((p) => p.startsWith('users[2].password'))).toBe(true);
  });

  it('reports YAML syntax errors with the file name', () => {
    const file = writeYaml('http: [unclosed\n');
    const { message } = problemsOf(() => loadConfigFile(file));
    expect(message).toContain(file);
    expect(message).toContain('YAML syntax');
  });

  it('reports an unreadable file', () => {
    const { message } = problemsOf(() => loadConfigFile('/nonexistent/gateway.yaml'));
    expect(message).toContain('/nonexistent/gateway.yaml');
    expect(message).toContain('cannot read file');
  });

  it('rejects registrar.maxExpires below minExpires', () => {
    const { problems } = problemsOf(() => parseConfig({ registrar: { minExpires: 600, maxExpires: 300 } }, 'x.yaml'));
    expect(problems).toContain('registrar.maxExpires: must be at least registrar.minExpires (600)');
  });

  it('rejects out-of-range ports', () => {
    const { problems } = problemsOf(() => parseConfig({ sip: { listen: ['udp:127.0.0.1:70000'] } }, 'x.yaml'));
    expect(problems.some((p) => p.startsWith('sip.listen[0]:'))).toBe(true);
  });
});
