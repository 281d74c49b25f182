// The network test bed itself (issue 6): the "field" topology is what it claims — masquerade on the
// home side, 1:1 NAT on the data-centre side, private addresses unreachable from the internet even for
// a host that routes them, a firewall rule that drops UDP and can be lifted — and close() leaves no
// namespace behind. Probes are real UDP/TCP packets between namespaces (echo servers report the
// source address they saw).
import { spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetBed } from '../../support/netbed/bed.js';
import { FIELD, createField } from '../../support/netbed/field.js';
import { allowOnlyTo, dropUdpExcept } from '../../support/netbed/nft.js';
import { deleteNamespaceSync, listNamespaces, sh } from '../../support/netbed/ns.js';
import { probe, startEcho } from '../../support/netbed/probe.js';

const PORT = 7000;

describe('network test bed: the field topology', () => {
  let bed: NetBed;

  beforeAll(async () => {
    bed = await createField();
    await Promise.all(['carrier', 'gateway', 'browser', 'turn'].flatMap((h) => [startEcho(bed, h, 'udp', PORT), startEcho(bed, h, 'tcp', PORT)]));
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('makes one namespace per host plus the switch, none of them the test’s own', async () => {
    const mine = listNamespaces().filter((ns) => ns.startsWith(`${bed.prefix}-`));
    expect(mine.sort()).toEqual(bed.namespaces().sort());
    expect(mine).toHaveLength(Object.keys(bed.spec.hosts).length + 1);
    // The test's own namespace has only lo: nothing of the bed is linked into it.
    expect(Object.keys(networkInterfaces())).toEqual(['lo']);
  });

  it('the home browser reaches the carrier, which sees the home router’s public address (masquerade)', async () => {
    for (const proto of ['udp', 'tcp'] as const) {
      const r = await probe(bed, 'browser', proto, FIELD.carrier, PORT);
      expect(r.raw).toMatch(/^reply from/);
      expect(r.replyFrom).toBe(FIELD.carrier);
      expect(r.seenAs?.split(':')[0]).toBe(FIELD.homePublic);
    }
  });

  it('the carrier reaches the gateway’s public address and the gateway sees the carrier’s real address (1:1 NAT)', async () => {
    for (const proto of ['udp', 'tcp'] as const) {
      const r = await probe(bed, 'carrier', proto, FIELD.gatewayPublic, PORT);
      expect(r.replyFrom).toBe(FIELD.gatewayPublic);
      expect(r.seenAs?.split(':')[0]).toBe(FIELD.carrier);
    }
  });

  it('the gateway’s own packets reach the carrier from the public address', async () => {
    const r = await probe(bed, 'gateway', 'udp', FIELD.carrier, PORT);
    expect(r.replyFrom).toBe(FIELD.carrier);
    expect(r.seenAs?.split(':')[0]).toBe(FIELD.gatewayPublic);
    // The browser too reaches the gateway only by its public address, seen as the home router.
    const b = await probe(bed, 'browser', 'tcp', FIELD.gatewayPublic, PORT);
    expect(b.seenAs?.split(':')[0]).toBe(FIELD.homePublic);
  });

  it('private addresses are unreachable from the internet, even for a host that routes them to the routers', async () => {
    // Without a route: nothing to send through.
    expect((await probe(bed, 'carrier', 'udp', FIELD.gatewayPrivate, PORT)).raw).not.toMatch(/^reply/);
    await bed.exec('rogue', 'ip', ['route', 'add', '192.0.2.0/24', 'via', FIELD.gatewayPublic]);
    await bed.exec('rogue', 'ip', ['route', 'add', '198.51.100.0/24', 'via', FIELD.homePublic]);
    const tries = (['udp', 'tcp'] as const).flatMap((proto) => [FIELD.gatewayPrivate, FIELD.browser].map((to) => ({ proto, to })));
    const results = await Promise.all(tries.map(async (t) => ({ ...t, raw: (await probe(bed, 'rogue', t.proto, t.to, PORT)).raw })));
    expect(results).toEqual(tries.map((t) => ({ ...t, raw: 'timeout' })));
    // …while the same host does reach the gateway by its public address.
    expect((await probe(bed, 'rogue', 'udp', FIELD.gatewayPublic, PORT)).seenAs?.split(':')[0]).toBe(FIELD.rogue);
  });

  it('a firewall rule on the home router drops forwarded UDP except to allowed addresses, and can be lifted', async () => {
    const lift = await bed.firewall('homerouter', dropUdpExcept(FIELD.turn));
    try {
      expect((await probe(bed, 'browser', 'udp', FIELD.carrier, PORT)).raw).toBe('timeout');
      expect((await probe(bed, 'browser', 'udp', FIELD.turn, PORT)).replyFrom).toBe(FIELD.turn);
      expect((await probe(bed, 'browser', 'tcp', FIELD.carrier, PORT)).replyFrom).toBe(FIELD.carrier);
    } finally {
      await lift();
    }
    expect((await probe(bed, 'browser', 'udp', FIELD.carrier, PORT)).replyFrom).toBe(FIELD.carrier);
  });

  it('an allow-list firewall forwards only the listed flows', async () => {
    const lift = await bed.firewall('homerouter', allowOnlyTo(`tcp:${FIELD.turn}:${PORT}`));
    try {
      const [turnTcp, turnUdp, carrierTcp] = await Promise.all([
        probe(bed, 'browser', 'tcp', FIELD.turn, PORT),
        probe(bed, 'browser', 'udp', FIELD.turn, PORT),
        probe(bed, 'browser', 'tcp', FIELD.carrier, PORT),
      ]);
      expect(turnTcp.replyFrom).toBe(FIELD.turn);
      expect([turnUdp.raw, carrierTcp.raw]).toEqual(['timeout', 'timeout']);
    } finally {
      await lift();
    }
  });

  it('captures packets with addresses and payloads as the carrier sees them', async () => {
    const cap = await bed.capture('carrier', `udp port ${PORT}`);
    await probe(bed, 'gateway', 'udp', FIELD.carrier, PORT);
    const packets = await cap.stop();
    const inbound = packets.filter((p) => p.dst === FIELD.carrier);
    expect(inbound).toHaveLength(1);
    expect(inbound[0]).toMatchObject({ proto: 'udp', src: FIELD.gatewayPublic, dstPort: PORT });
    expect(inbound[0]!.payload.toString()).toBe('probe');
  });

  it('close() stops its processes and deletes every namespace (and is idempotent)', async () => {
    const other = await createField();
    const echo = await startEcho(other, 'carrier', 'udp', PORT);
    expect(listNamespaces().filter((ns) => ns.startsWith(`${other.prefix}-`))).toHaveLength(other.namespaces().length);
    await other.close();
    await other.close();
    expect(echo.running).toBe(false);
    expect(listNamespaces().filter((ns) => ns.startsWith(`${other.prefix}-`))).toEqual([]);
    // `bed` (same name, same process, still open) was swept by neither create nor close.
    expect(listNamespaces().filter((ns) => ns.startsWith(`${bed.prefix}-`))).toHaveLength(bed.namespaces().length);
  });

  it('a new bed first deletes the namespaces a crashed run left behind (its process is gone)', async () => {
    const dead = spawnSync('true').pid!; // a pid that has exited: the "crashed run"
    const leftover = `nb-field-${dead}-1-carrier`;
    await sh('ip', ['netns', 'add', leftover]);
    expect(listNamespaces()).toContain(leftover);
    const next = await createField();
    try {
      expect(listNamespaces()).not.toContain(leftover);
      expect(listNamespaces().filter((ns) => ns.startsWith(`${bed.prefix}-`))).toHaveLength(bed.namespaces().length);
    } finally {
      await next.close();
      deleteNamespaceSync(leftover); // in case the sweep failed
    }
  });
});
