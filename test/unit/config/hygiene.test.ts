// sip.limits → the transport's ConnectionLimits, and the default WebSocket Origin allow-list.
import { describe, expect, it } from 'vitest';
import { allowedOrigins, connectionLimits } from '../../../gateway/config/hygiene.js';
import { configSchema } from '../../../gateway/config/schema.js';

describe('connection hygiene settings', () => {
  it('defaults: 4096 connections, 64 per address, 2048 fds kept, 10/20/120/10 s deadlines, 50 msg/s burst 100', () => {
    expect(connectionLimits(configSchema.parse({}))).toEqual({
      maxConnections: 4096,
      maxPerAddress: 64,
      fdReserve: 2048,
      firstMessageMs: 10_000,
      messageMs: 20_000,
      idleMs: 120_000,
      tlsHandshakeMs: 10_000,
      wsMessagesPerSecond: 50,
      wsBurst: 100,
    });
  });

  it('takes seconds (fractions too) and 0 for off', () => {
    const c = configSchema.parse({ sip: { limits: { firstMessageTimeout: 0.5, idleTimeout: 0 } } });
    expect(connectionLimits(c)).toMatchObject({ firstMessageMs: 500, idleMs: 0 });
  });

  it("the default origins are the page's own: its URL, the listen host, and on loopback localhost too", () => {
    const c = configSchema.parse({});
    expect(allowedOrigins(c, 'http://127.0.0.1:8080/', '127.0.0.1', 8080).sort()).toEqual(
      ['http://127.0.0.1:8080', 'http://[::1]:8080', 'http://localhost:8080'].sort(),
    );
    const tls = configSchema.parse({ http: { tls: { cert: 'c', key: 'k' }, listen: '0.0.0.0:443' } });
    expect(allowedOrigins(tls, 'https://phone.example.com:443/', '0.0.0.0', 443)).toEqual(['https://phone.example.com']);
  });

  it('http.allowedOrigins replaces the default; a path or a bare host is refused at load', () => {
    const c = configSchema.parse({ http: { allowedOrigins: ['https://a.example', '*'] } });
    expect(allowedOrigins(c, 'http://127.0.0.1:8080/', '127.0.0.1', 8080)).toEqual(['https://a.example', '*']);
    expect(configSchema.safeParse({ http: { allowedOrigins: ['https://a.example/page'] } }).success).toBe(false);
    expect(configSchema.safeParse({ http: { allowedOrigins: ['a.example'] } }).success).toBe(false);
  });
});
