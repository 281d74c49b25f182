// sip-config/turnserver.conf, the documented coturn example: what it must say for the gateway's credentials to
// work and for the TURN server not to open a way into private networks. (test/integration/turn runs it.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const file = path.resolve(import.meta.dirname, '..', '..', '..', 'sip-config', 'turnserver.conf');
const lines = readFileSync(file, 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const values = (key: string) => lines.filter((l) => l.split('=')[0] === key).map((l) => l.slice(key.length + 1));

const ipv4 = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
/** Is [from, to] inside one denied-peer-ip range? */
function denied(from: string, to: string): boolean {
  return values('denied-peer-ip')
    .filter((r) => !r.includes(':'))
    .map((r) => r.split('-').map(ipv4) as [number, number])
    .some(([lo, hi]) => lo <= ipv4(from) && ipv4(to) <= hi);
}

describe('sip-config/turnserver.conf', () => {
  it('checks TURN REST credentials from one shared secret, on 3478 UDP+TCP', () => {
    expect(lines).toContain('use-auth-secret');
    expect(values('static-auth-secret')).toHaveLength(1);
    expect(values('listening-port')).toEqual(['3478']);
    expect(values('realm')).toHaveLength(1);
    expect(lines).not.toContain('no-udp');
    expect(lines).not.toContain('no-tcp');
    expect(lines).not.toContain('lt-cred-mech'); // long-term static users would bypass the short-lived scheme
  });

  it('denies relaying to the RFC 1918 ranges, link-local and loopback', () => {
    expect(denied('10.0.0.0', '10.255.255.255')).toBe(true);
    expect(denied('172.16.0.0', '172.31.255.255')).toBe(true);
    expect(denied('192.168.0.0', '192.168.255.255')).toBe(true);
    expect(denied('169.254.0.0', '169.254.255.255')).toBe(true);
    expect(lines).toContain('no-multicast-peers');
    expect(lines).not.toContain('allow-loopback-peers');
    expect(values('allowed-peer-ip')).toEqual([]);
  });

  it('has a relay range, fingerprints, no CLI, and plain TURN only', () => {
    const [min, max] = [Number(values('min-port')[0]), Number(values('max-port')[0])];
    expect(min).toBeGreaterThanOrEqual(1024);
    expect(max).toBeGreaterThan(min);
    for (const flag of ['fingerprint', 'no-cli', 'no-tls', 'no-dtls']) expect(lines).toContain(flag);
  });
});
