// NAT and firewall rules of the test bed's routers, rendered as nftables scripts (`nft -f -`).
// Each rule set lives in its own table so a firewall rule can be removed again by deleting its table.
import { assertDocAddress, assertDocCidr } from './addr.js';

export type NatRule =
  /** Static 1:1 NAT (a cloud VM's public IP): everything to `publicIp` goes to `privateIp`, and
   *  `privateIp`'s packets leave as `publicIp`. The router's WAN interface must own `publicIp`. */
  | { kind: 'oneToOne'; publicIp: string; privateIp: string }
  /** A home router: packets from `lanCidr` leaving through any other interface take the address of
   *  that interface (source NAT with port mapping, conntrack for the replies). */
  | { kind: 'masquerade'; lanCidr: string };

export type FirewallRule =
  /** Drops every UDP packet the router forwards, except those to the given addresses/CIDRs (and their replies). */
  | { kind: 'dropUdpExcept'; allowed: string[] }
  /** A strict corporate firewall: forwards new flows only to the given "tcp|udp:address:port" targets
   *  (and the replies of allowed flows); everything else is dropped. */
  | { kind: 'allowOnlyTo'; targets: Array<{ proto: 'tcp' | 'udp'; address: string; port: number }> };

export function oneToOne(publicIp: string, privateIp: string): NatRule {
  assertDocAddress(publicIp, 'oneToOne public address');
  assertDocAddress(privateIp, 'oneToOne private address');
  return { kind: 'oneToOne', publicIp, privateIp };
}

export function masquerade(lanCidr: string): NatRule {
  assertDocCidr(lanCidr, 'masquerade LAN');
  return { kind: 'masquerade', lanCidr };
}

export function dropUdpExcept(...allowed: string[]): FirewallRule {
  for (const a of allowed) (a.includes('/') ? assertDocCidr : assertDocAddress)(a, 'dropUdpExcept address');
  return { kind: 'dropUdpExcept', allowed };
}

export function allowOnlyTo(...targets: string[]): FirewallRule {
  return {
    kind: 'allowOnlyTo',
    targets: targets.map((t) => {
      const m = /^(tcp|udp):([\d.]+):(\d{1,5})$/.exec(t);
      if (!m) throw new Error(`netbed: allowOnlyTo target "${t}" is not "tcp|udp:address:port"`);
      assertDocAddress(m[2]!, 'allowOnlyTo address');
      return { proto: m[1] as 'tcp' | 'udp', address: m[2]!, port: Number(m[3]) };
    }),
  };
}

/** The `table ip <name>` holding every NAT rule of one router. */
export function natTable(name: string, rules: readonly NatRule[]): string {
  const pre: string[] = [];
  const post: string[] = [];
  // What a real NAT also does: nothing from outside reaches the inside address unless it is the
  // reply of a connection from inside, or (1:1) was sent to the public address — even if a host
  // outside routes the private range to us.
  const fwd: string[] = [];
  for (const r of rules) {
    if (r.kind === 'oneToOne') {
      pre.push(`ip daddr ${r.publicIp} dnat to ${r.privateIp}`);
      post.push(`ip saddr ${r.privateIp} snat to ${r.publicIp}`);
      fwd.push(`ip daddr ${r.privateIp} ct status dnat accept`, `ip daddr ${r.privateIp} ct direction reply accept`, `ip daddr ${r.privateIp} drop`);
    } else {
      post.push(`ip saddr ${r.lanCidr} ip daddr != ${r.lanCidr} masquerade`);
      fwd.push(`ip daddr ${r.lanCidr} ct direction reply accept`, `ip daddr ${r.lanCidr} drop`);
    }
  }
  return table(name, [
    { chain: 'pre', type: 'nat hook prerouting priority dstnat', rules: pre },
    { chain: 'post', type: 'nat hook postrouting priority srcnat', rules: post },
    { chain: 'forward', type: 'filter hook forward priority filter', rules: fwd },
  ]);
}

/** A `table ip <name>` whose forward chain implements `rule`. */
export function firewallTable(name: string, rule: FirewallRule): string {
  let rules: string[];
  if (rule.kind === 'dropUdpExcept') {
    const except = rule.allowed.length > 0 ? ` ip daddr != { ${rule.allowed.join(', ')} }` : '';
    // Original direction only: the allowed flows' replies come back (to the LAN address) unharmed.
    rules = [`ct direction original meta l4proto udp${except} counter drop`];
  } else {
    rules = [
      'ct direction reply accept',
      ...rule.targets.map((t) => `ip daddr ${t.address} ${t.proto} dport ${t.port} accept`),
      'ct direction original counter drop',
    ];
  }
  return table(name, [{ chain: 'forward', type: 'filter hook forward priority filter', rules }]);
}

/** An nftables script for one `table ip` whose base chains (policy accept) hold `rules`. */
function table(name: string, chains: Array<{ chain: string; type: string; rules: string[] }>): string {
  const body = chains.flatMap((c) => [`  chain ${c.chain} {`, `    type ${c.type}; policy accept;`, ...c.rules.map((l) => `    ${l}`), '  }']);
  return [`table ip ${name} {`, ...body, '}', ''].join('\n');
}
