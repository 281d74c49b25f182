// "field": where users run the gateway. A cloud VM behind 1:1 NAT, a carrier and a TURN server on the
// internet, a browser behind a home router's masquerade, a rogue host that can send anything.
//
//   internet 203.0.113.0/24 (bridge in the switch namespace)
//     carrier 203.0.113.20 · dcrouter WAN 203.0.113.10 · homerouter WAN 203.0.113.30 · turn 203.0.113.40 · rogue 203.0.113.66
//   dc 192.0.2.0/24:     gateway 192.0.2.10 ── dcrouter 192.0.2.1   (1:1 NAT 203.0.113.10 ⇄ 192.0.2.10)
//   home 198.51.100.0/24: browser 198.51.100.10 ── homerouter 198.51.100.1 (masquerade as 203.0.113.30)
import { NetBed, type BedSpec } from './bed.js';
import { masquerade, oneToOne } from './nft.js';

export const FIELD = {
  carrier: '203.0.113.20',
  gatewayPublic: '203.0.113.10',
  gatewayPrivate: '192.0.2.10',
  dcRouterLan: '192.0.2.1',
  homePublic: '203.0.113.30',
  homeRouterLan: '198.51.100.1',
  browser: '198.51.100.10',
  turn: '203.0.113.40',
  rogue: '203.0.113.66',
} as const;

export const FIELD_SPEC: BedSpec = {
  name: 'field',
  segments: { internet: '203.0.113.0/24', dc: '192.0.2.0/24', home: '198.51.100.0/24' },
  hosts: {
    carrier: { links: { internet: FIELD.carrier } },
    turn: { links: { internet: FIELD.turn } },
    rogue: { links: { internet: FIELD.rogue } },
    dcrouter: {
      links: { internet: FIELD.gatewayPublic, dc: FIELD.dcRouterLan },
      router: true,
      nat: [oneToOne(FIELD.gatewayPublic, FIELD.gatewayPrivate)],
    },
    gateway: { links: { dc: FIELD.gatewayPrivate }, via: FIELD.dcRouterLan },
    homerouter: {
      links: { internet: FIELD.homePublic, home: FIELD.homeRouterLan },
      router: true,
      nat: [masquerade('198.51.100.0/24')],
    },
    browser: { links: { home: FIELD.browser }, via: FIELD.homeRouterLan },
  },
};

/** Builds the field topology (a fresh set of namespaces for this run). */
export function createField(): Promise<NetBed> {
  return NetBed.create(FIELD_SPEC);
}
