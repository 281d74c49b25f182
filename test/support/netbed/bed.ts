// The network test bed: hosts as network namespaces, segments as Linux bridges in one "switch"
// namespace, each host joined to its segments by a veth pair, routers forwarding with nftables NAT.
// No namespace or link is ever joined to the namespace the test runs in, so no packet can leave.
// Every namespace is deleted by close() (idempotent), on process exit as a last resort, and — if a
// run crashed — by the next create() with the same name. Addresses: documentation ranges only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, type ProcessHandle, type StartProcessOptions } from '../process.js';
import { assertDocAddress, assertDocCidr, inCidr, parseCidr } from './addr.js';
import { startCapture, type Capture } from './capture.js';
import { forwardToUnix, type UnixForward } from './forward.js';
import { firewallTable, natTable, type FirewallRule, type NatRule } from './nft.js';
import { addNamespace, deleteNamespaceSync, nsExec, sh, sweepLeftovers } from './ns.js';

export interface HostSpec {
  /** Segment name → this host's address on it (the interface inside the host is named after the segment). */
  links: Record<string, string>;
  /** Default route via this address (on one of the host's segments). */
  via?: string;
  /** Forward packets between its interfaces (net.ipv4.ip_forward=1). */
  router?: boolean;
  /** NAT rules (routers only). */
  nat?: NatRule[];
}

export interface BedSpec {
  /** Short name ([a-z0-9]); namespaces are named nb-<name>-<pid>-<n>-<host>. */
  name: string;
  /** Segment name → CIDR (documentation ranges only). */
  segments: Record<string, string>;
  hosts: Record<string, HostSpec>;
}

let bedCount = 0;
const SEGMENT_NAME = /^[a-z][a-z0-9]{0,14}$/;
const HOST_NAME = /^[a-z][a-z0-9]{0,20}$/;

export function validateSpec(spec: BedSpec): void {
  if (!/^[a-z0-9]{1,12}$/.test(spec.name)) throw new Error(`netbed: bad bed name "${spec.name}"`);
  for (const [seg, cidr] of Object.entries(spec.segments)) {
    if (!SEGMENT_NAME.test(seg)) throw new Error(`netbed: bad segment name "${seg}" (an interface name: ≤ 15 chars)`);
    assertDocCidr(cidr, `segment ${seg}`);
  }
  for (const [host, h] of Object.entries(spec.hosts)) {
    if (!HOST_NAME.test(host) || host === 'switch') throw new Error(`netbed: bad host name "${host}"`);
    for (const [seg, addr] of Object.entries(h.links)) {
      const cidr = spec.segments[seg];
      if (!cidr) throw new Error(`netbed: host ${host} links to unknown segment "${seg}"`);
      assertDocAddress(addr, `host ${host} address`);
      if (!inCidr(addr, cidr)) throw new Error(`netbed: host ${host} address ${addr} is not in segment ${seg} ${cidr}`);
    }
    if (h.via && !Object.keys(h.links).some((seg) => inCidr(h.via!, spec.segments[seg]!))) {
      throw new Error(`netbed: host ${host} route via ${h.via} is on none of its segments`);
    }
    if (h.nat?.length && !h.router) throw new Error(`netbed: host ${host} has NAT rules but is no router`);
  }
}

export class NetBed {
  private readonly procs = new Set<ProcessHandle>();
  private closed = false;
  private fwCount = 0;

  private constructor(
    readonly spec: BedSpec,
    /** Namespace name prefix of this bed: nb-<name>-<pid>-<n> (n counts beds made by this process). */
    readonly prefix: string,
    /** Scratch directory (captures, relay sockets, generated files); removed by close(). */
    readonly dir: string,
  ) {}

  /** Builds the bed; on any failure deletes what it made and rethrows. */
  static async create(spec: BedSpec): Promise<NetBed> {
    validateSpec(spec);
    sweepLeftovers(`nb-${spec.name}`);
    const bed = new NetBed(spec, `nb-${spec.name}-${process.pid}-${++bedCount}`, mkdtempSync(join(tmpdir(), `netbed-${spec.name}-`)));
    try {
      await bed.build();
    } catch (err) {
      await bed.close();
      throw err;
    }
    return bed;
  }

  /** The namespace of `host` (or of the switch). */
  ns(host: string): string {
    if (host !== 'switch' && !this.spec.hosts[host]) throw new Error(`netbed: no host "${host}"`);
    return `${this.prefix}-${host}`;
  }

  /** Every namespace this bed made. */
  namespaces(): string[] {
    return ['switch', ...Object.keys(this.spec.hosts)].map((h) => `${this.prefix}-${h}`);
  }

  /** The address of `host` (on `segment`, or its first one). */
  address(host: string, segment?: string): string {
    const links = this.spec.hosts[host]?.links ?? {};
    const addr = segment ? links[segment] : Object.values(links)[0];
    if (!addr) throw new Error(`netbed: host ${host} has no address${segment ? ` on ${segment}` : ''}`);
    return addr;
  }

  private async build(): Promise<void> {
    const sw = this.ns('switch');
    await Promise.all(this.namespaces().map((ns) => addNamespace(ns)));
    for (const seg of Object.keys(this.spec.segments)) {
      await sh('ip', ['-n', sw, 'link', 'add', seg, 'type', 'bridge']);
      await sh('ip', ['-n', sw, 'link', 'set', seg, 'up']);
    }
    let port = 0;
    for (const [host, h] of Object.entries(this.spec.hosts)) {
      const ns = this.ns(host);
      for (const [seg, addr] of Object.entries(h.links)) {
        const swPort = `p${port++}`;
        await sh('ip', ['-n', sw, 'link', 'add', swPort, 'type', 'veth', 'peer', 'name', seg, 'netns', ns]);
        await sh('ip', ['-n', sw, 'link', 'set', swPort, 'master', seg, 'up']);
        await sh('ip', ['-n', ns, 'addr', 'add', `${addr}/${parseCidr(this.spec.segments[seg]!).bits}`, 'dev', seg]);
        await sh('ip', ['-n', ns, 'link', 'set', seg, 'up']);
      }
      if (h.via) await sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', h.via]);
      if (h.router) await nsExec(ns, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
      if (h.nat?.length) await nsExec(ns, 'nft', ['-f', '-'], natTable('netbed_nat', h.nat));
    }
  }

  /** Starts a long-running process inside `host`'s namespace; close() stops it. */
  run(host: string, cmd: string, args: readonly string[], opts: StartProcessOptions = {}): ProcessHandle {
    const proc = startProcess(cmd, args, { name: `${host}: ${cmd}`, ...opts, netns: this.ns(host) });
    this.procs.add(proc);
    void proc.exited.then(() => this.procs.delete(proc));
    return proc;
  }

  /** Runs a short command inside `host`'s namespace to completion; resolves with its stdout. */
  exec(host: string, cmd: string, args: readonly string[], input?: string): Promise<string> {
    return nsExec(this.ns(host), cmd, args, input);
  }

  /** Captures packets on every interface of `host` matching a tcpdump `filter`. */
  async capture(host: string, filter = ''): Promise<Capture> {
    const cap = await startCapture(this.ns(host), join(this.dir, `${host}-${Date.now()}.pcap`), filter);
    return cap;
  }

  /** A Unix socket file in the test's reach that connects to host:port inside `host`'s namespace. */
  async forward(host: string, port: number, address = '127.0.0.1'): Promise<UnixForward> {
    const fwd = await forwardToUnix(this.ns(host), this.dir, address, port);
    this.procs.add(fwd.proc);
    return fwd;
  }

  /** Adds a firewall rule to router `host`; resolves with a function that removes it again. */
  async firewall(host: string, rule: FirewallRule): Promise<() => Promise<void>> {
    const table = `netbed_fw${this.fwCount++}`;
    await this.exec(host, 'nft', ['-f', '-'], firewallTable(table, rule));
    return async () => {
      await this.exec(host, 'nft', ['delete', 'table', 'ip', table]);
    };
  }

  /** Stops the bed's processes and deletes every namespace. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.procs].map((p) => p.stop({ graceMs: 2000 })));
    for (const ns of this.namespaces()) deleteNamespaceSync(ns);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
