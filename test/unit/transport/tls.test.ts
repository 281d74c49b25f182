import { describe, expect, it, vi } from 'vitest';
import { connectOptions, tlsSettingsFor, type TlsPeer } from '../../../gateway/sip/transport/tls.js';

const target = (address: string, port: number, tls?: object) => ({ transport: 'tls' as const, address, port, ...(tls ? { tls } : {}) });

describe('tlsSettingsFor', () => {
  const peers: TlsPeer[] = [
    { host: 'pbx.example.com', port: 5061, ca: 'PBX-CA' },
    { host: '192.0.2.7', port: 5061, verify: false },
  ];

  it('uses the target’s own settings first, without any lookup', async () => {
    const lookup = vi.fn(async () => ['192.0.2.7']);
    await expect(tlsSettingsFor(target('192.0.2.7', 5061, { ca: 'MINE' }), peers, lookup)).resolves.toEqual({ ca: 'MINE' });
    expect(lookup).not.toHaveBeenCalled();
  });

  it('matches a peer configured by IP without a lookup, its IP as the identity', async () => {
    const lookup = vi.fn(async () => ['192.0.2.7']);
    await expect(tlsSettingsFor(target('192.0.2.7', 5061), peers, lookup)).resolves.toEqual({ verify: false, ca: undefined, servername: '192.0.2.7' });
    expect(lookup).not.toHaveBeenCalled();
  });

  it('matches a peer configured by name when the name resolves to the target address; the name is the identity', async () => {
    const lookup = vi.fn(async (host: string) => (host === 'pbx.example.com' ? ['198.51.100.1', '198.51.100.2'] : []));
    await expect(tlsSettingsFor(target('198.51.100.2', 5061), peers, lookup)).resolves.toEqual({
      ca: 'PBX-CA',
      verify: undefined,
      servername: 'pbx.example.com',
    });
  });

  it('ignores peers on another port and falls back to defaults (system CAs, verification on)', async () => {
    const lookup = vi.fn(async () => ['198.51.100.1']);
    await expect(tlsSettingsFor(target('198.51.100.1', 5062), peers, lookup)).resolves.toEqual({});
    expect(lookup).not.toHaveBeenCalled();
  });

  it('treats a failing lookup as no match', async () => {
    const lookup = vi.fn(async () => {
      throw new Error('ENOTFOUND');
    });
    await expect(tlsSettingsFor(target('198.51.100.1', 5061), peers, lookup)).resolves.toEqual({});
  });
});

describe('connectOptions', () => {
  const remote = { address: '198.51.100.1', port: 5061 };

  it('verifies by default, TLS 1.2 at least, no SNI without a name', () => {
    const o = connectOptions(remote, {});
    expect(o).toMatchObject({ host: '198.51.100.1', port: 5061, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    expect(o.servername).toBeUndefined();
    expect(o.ca).toBeUndefined();
  });

  it('sends a DNS name as SNI and passes the CA', () => {
    const o = connectOptions(remote, { servername: 'PBX.example.com', ca: 'CA' });
    expect(o.servername).toBe('pbx.example.com');
    expect(o.ca).toBe('CA');
  });

  it('never sends an IP literal as SNI but checks the certificate against that IP', () => {
    const o = connectOptions(remote, { servername: '192.0.2.7' });
    expect(o.servername).toBeUndefined();
    const err = o.checkServerIdentity!('198.51.100.1', { subjectaltname: 'IP Address:198.51.100.1' } as never);
    expect(err?.message).toMatch(/192\.0\.2\.7/);
    expect(o.checkServerIdentity!('x', { subjectaltname: 'IP Address:192.0.2.7' } as never)).toBeUndefined();
  });

  it('turns verification off only for verify: false', () => {
    expect(connectOptions(remote, { verify: false }).rejectUnauthorized).toBe(false);
    expect(connectOptions(remote, { verify: true }).rejectUnauthorized).toBe(true);
  });
});
