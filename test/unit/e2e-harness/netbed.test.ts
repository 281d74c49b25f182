// The network test bed's pure parts: the address rules (documentation ranges only), the nftables it
// renders, the pcap reader (with a seeded mutation run: it never throws anything but its own error)
// and G.711 μ-law.
import { describe, expect, it } from 'vitest';
import { validateSpec, type BedSpec } from '../../support/netbed/bed.js';
import { FIELD_SPEC } from '../../support/netbed/field.js';
import { allowOnlyTo, dropUdpExcept, firewallTable, masquerade, natTable, oneToOne } from '../../support/netbed/nft.js';
import { readPcap } from '../../support/netbed/pcap.js';
import { pcmuSamples, roguePayload, ulawDecode, ulawEncode } from '../../support/netbed/rtp.js';

function spec(patch: Partial<BedSpec>): BedSpec {
  return { name: 't', segments: { lan: '198.51.100.0/24' }, hosts: { a: { links: { lan: '198.51.100.2' } } }, ...patch };
}

/** A pcap file (LINUX_SLL2, µs) holding one IPv4/UDP packet src:sp → dst:dp with `payload`. */
function udpPcap(src: number[], dst: number[], sp: number, dp: number, payload: Buffer): Buffer {
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(262144, 16);
  global.writeUInt32LE(276, 20);
  const sll2 = Buffer.alloc(20);
  sll2.writeUInt16BE(0x0800, 0);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[9] = 17;
  Buffer.from(src).copy(ip, 12);
  Buffer.from(dst).copy(ip, 16);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sp, 0);
  udp.writeUInt16BE(dp, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const frame = Buffer.concat([sll2, ip, udp, payload]);
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(1_800_000_000, 0);
  rec.writeUInt32LE(frame.length, 8);
  rec.writeUInt32LE(frame.length, 12);
  return Buffer.concat([global, rec, frame]);
}

describe('netbed: addresses', () => {
  it('accepts the field topology', () => {
    expect(() => validateSpec(FIELD_SPEC)).not.toThrow();
  });

  it('refuses RFC 1918 and real public ranges, and addresses outside their segment', () => {
    expect(() => validateSpec(spec({ segments: { lan: '10.0.0.0/24' } }))).toThrow(/documentation ranges/);
    expect(() => validateSpec(spec({ segments: { lan: '192.168.1.0/24' } }))).toThrow(/documentation ranges/);
    expect(() => validateSpec(spec({ segments: { lan: '203.0.112.0/23' } }))).toThrow(/documentation ranges/);
    expect(() => validateSpec(spec({ hosts: { a: { links: { lan: '192.0.2.5' } } } }))).toThrow(/not in segment lan/);
    expect(() => oneToOne('8.8.8.8', '192.0.2.10')).toThrow(/documentation ranges/);
    expect(() => masquerade('172.16.0.0/24')).toThrow(/documentation ranges/);
    expect(() => dropUdpExcept('1.1.1.1')).toThrow(/documentation ranges/);
  });

  it('refuses names that cannot be interface or namespace names', () => {
    expect(() => validateSpec(spec({ segments: { 'a-very-long-segment': '198.51.100.0/24' } }))).toThrow(/segment name/);
    expect(() => validateSpec(spec({ hosts: { switch: { links: {} } } }))).toThrow(/host name/);
    expect(() => validateSpec(spec({ hosts: { a: { links: { lan: '198.51.100.2' }, nat: [masquerade('198.51.100.0/24')] } } }))).toThrow(/no router/);
  });
});

describe('netbed: nftables', () => {
  it('1:1 NAT maps both ways and admits to the private address only what was sent to the public one (or replies)', () => {
    const text = natTable('n', [oneToOne('203.0.113.10', '192.0.2.10')]);
    expect(text).toContain('ip daddr 203.0.113.10 dnat to 192.0.2.10');
    expect(text).toContain('ip saddr 192.0.2.10 snat to 203.0.113.10');
    expect(text).toMatch(/ip daddr 192\.0\.2\.10 ct status dnat accept\n.*ct direction reply accept\n.*ip daddr 192\.0\.2\.10 drop/);
  });

  it('masquerade rewrites what leaves the LAN and admits into it only replies', () => {
    const text = natTable('n', [masquerade('198.51.100.0/24')]);
    expect(text).toContain('ip saddr 198.51.100.0/24 ip daddr != 198.51.100.0/24 masquerade');
    expect(text).toMatch(/ip daddr 198\.51\.100\.0\/24 ct direction reply accept\n\s+ip daddr 198\.51\.100\.0\/24 drop/);
  });

  it('dropUdpExcept drops new UDP flows except to the allowed addresses; with none, all of them', () => {
    expect(firewallTable('f', dropUdpExcept('203.0.113.40'))).toContain('ct direction original meta l4proto udp ip daddr != { 203.0.113.40 } counter drop');
    expect(firewallTable('f', dropUdpExcept())).toContain('ct direction original meta l4proto udp counter drop');
  });

  it('allowOnlyTo forwards new flows only to its targets, and replies', () => {
    const text = firewallTable('f', allowOnlyTo('tcp:203.0.113.40:3478', 'udp:203.0.113.10:5060'));
    expect(text).toMatch(/ct direction reply accept\n\s+ip daddr 203\.0\.113\.40 tcp dport 3478 accept\n\s+ip daddr 203\.0\.113\.10 udp dport 5060 accept\n\s+ct direction original counter drop/);
    expect(() => allowOnlyTo('tcp:203.0.113.40')).toThrow(/tcp\|udp:address:port/);
    expect(() => allowOnlyTo('tcp:10.0.0.1:80')).toThrow(/documentation ranges/);
  });
});

describe('netbed: pcap reader', () => {
  const file = udpPcap([203, 0, 113, 10], [203, 0, 113, 20], 40000, 5060, Buffer.from('INVITE'));

  it('reads addresses, ports and payload of an SLL2 capture; ignores a record still being written', () => {
    const [p, ...rest] = readPcap(file);
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ proto: 'udp', src: '203.0.113.10', dst: '203.0.113.20', srcPort: 40000, dstPort: 5060 });
    expect(p!.payload.toString()).toBe('INVITE');
    expect(readPcap(file.subarray(0, file.length - 3))).toEqual([]);
  });

  it('seeded mutations: returns packets or throws its own "pcap:" error, nothing else', () => {
    let seed = 6;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 3000; i++) {
      const m = Buffer.from(file);
      for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
      const cut = m.subarray(0, rand() < 0.2 ? Math.floor(rand() * m.length) : m.length);
      try {
        readPcap(cut);
      } catch (err) {
        expect((err as Error).message, `mutation ${i}`).toMatch(/^pcap: /);
      }
    }
  });
});

describe('netbed: G.711 μ-law', () => {
  it('decodes what it encodes within μ-law’s step size, and the rogue payload starts with its marker', () => {
    for (const v of [0, 1, -1, 100, -100, 1000, -5000, 16000, 32767, -32768]) {
      expect(Math.abs(ulawDecode(ulawEncode(v)) - Math.max(-32124, Math.min(32124, v)))).toBeLessThanOrEqual(Math.max(8, Math.abs(v) / 16));
    }
    const payload = roguePayload('MARK', 2900);
    expect(payload).toHaveLength(160);
    expect(payload.subarray(0, 4).toString()).toBe('MARK');
  });

  it('pcmuSamples orders frames by sequence number', () => {
    const rtp = (seq: number, byte: number): Buffer => Buffer.concat([Buffer.from([0x80, 0, seq >> 8, seq & 0xff, 0, 0, 0, 0, 0, 0, 0, 1]), Buffer.alloc(2, byte)]);
    const pkt = (payload: Buffer) => ({ ts: 0, proto: 'udp' as const, src: 'a', dst: 'b', srcPort: 1, dstPort: 2, payload });
    const samples = pcmuSamples([pkt(rtp(2, ulawEncode(1000))), pkt(rtp(1, ulawEncode(-1000)))]);
    expect(samples.length).toBe(4);
    expect(samples[0]).toBeLessThan(0);
    expect(samples[3]).toBeGreaterThan(0);
  });
});
