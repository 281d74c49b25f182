// The `security` block and stored-secret passwords (README "Security"): per-source rate limit and ban,
// authentication-failure lockout, scanner User-Agents, demo users on a non-loopback listen, digest HA1.
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Substrings (case-insensitive) of the User-Agent of SIP scanners (SIPVicious svmap/svwar/svcrack call
 *  themselves "friendly-scanner"; the others are sipcli, sip-scan, sipsak, VaxSIPUserAgent, iWar, SIVuS, smap,
 *  pplsip), as Kamailio's and fail2ban's example scripts list them. */
export const DEFAULT_SCANNER_USER_AGENTS = [
  'friendly-scanner', 'sipvicious', 'sipcli', 'sip-scan', 'sipsak', 'VaxSIPUserAgent', 'iWar', 'SIVuS', 'smap', 'pplsip',
];

export const securitySchema = z
  .object({
    /** Token bucket per source IP over every inbound SIP message (all transports): refilled at
     *  requestsPerSecond, holding at most burst. A source that finds it empty is banned. false: off. */
    rateLimit: z
      .union([
        z.literal(false),
        z.object({ requestsPerSecond: z.number().positive().max(100_000).default(20), burst: z.number().int().min(1).max(1_000_000).default(100) }).strict(),
      ])
      .default({}),
    /** Seconds a source over the rate stays banned (its packets dropped unread and unanswered). */
    ban: z.object({ seconds: z.number().int().min(1).max(30 * 86400).default(600) }).strict().default({}),
    /** Failed digest authentications counted per source IP and per user: `max` within `windowSeconds` lock
     *  that source (or user) for `lockoutSeconds`; meanwhile the right password is refused like a wrong one. */
    authFailures: z
      .object({
        max: z.number().int().min(1).max(1000).default(5),
        windowSeconds: z.number().int().min(1).max(86400).default(300),
        lockoutSeconds: z.number().int().min(1).max(30 * 86400).default(900),
      })
      .strict()
      .default({}),
    /** Requests whose User-Agent contains one of these (case-insensitive) are dropped without an answer. */
    dropUserAgents: z.array(z.string().min(1)).default(DEFAULT_SCANNER_USER_AGENTS),
    /** The demo users (alice/alice, bob/bob) are refused on a non-loopback listen unless this is true. */
    allowDemoUsers: z.boolean().default(false),
  })
  .strict()
  .default({});

const hex = (digits: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${digits}}$`), `expected ${digits} hex digits`);

/** RFC 7616 §3.4.2: HA1 = H(username ":" realm ":" passwd) may be stored instead of the password; it only
 *  works for that realm (the schema checks it equals the digest realm). */
export const ha1Schema = z
  .object({ realm: z.string().min(1), md5: hex(32).optional(), sha256: hex(64).optional() })
  .strict()
  .refine((h) => h.md5 !== undefined || h.sha256 !== undefined, 'give md5, sha256 or both');

/** users[].password: the plain password, or { ha1: { realm, md5?, sha256? } }. */
export const passwordSchema = z.union([z.string().min(1), z.object({ ha1: ha1Schema }).strict()]);

export type SecurityConfig = z.infer<typeof securitySchema>;
export type PasswordConfig = z.infer<typeof passwordSchema>;

/** The digest realm: sip.realm ?? sip.domain ?? 'gateway'. */
export function digestRealm(sip: { realm?: string; domain?: string }): string {
  return sip.realm ?? sip.domain ?? 'gateway';
}

/** The accounts sip-config/gateway.yaml ships and the README signs in with. */
export const DEMO_USERS: Readonly<Record<string, string>> = { alice: 'alice', bob: 'bob' };

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost"; anything else (a wildcard, a name) is not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase().replace(/^::ffff:/, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Is this password (plain or HA1) the demo password of a demo user? */
export function isDemoPassword(name: string, password: PasswordConfig, realm: string): boolean {
  const demo = DEMO_USERS[name];
  if (demo === undefined) return false;
  if (typeof password === 'string') return password === demo;
  const { md5, sha256 } = password.ha1;
  const h = (alg: string): string => createHash(alg).update(`${name}:${realm}:${demo}`).digest('hex');
  return md5?.toLowerCase() === h('md5') || sha256?.toLowerCase() === h('sha256');
}

interface Issue {
  path: Array<string | number>;
  message: string;
}

interface SecurityView {
  http: { listen: string };
  sip: { listen: Array<string | { listen: string }>; realm?: string; domain?: string };
  users: Array<{ name: string; password: PasswordConfig }>;
  security: SecurityConfig;
}

/** The first listen that is not loopback, as "key value", or undefined. */
function publicListen(cfg: SecurityView): string | undefined {
  const host = (hostPort: string): string => hostPort.slice(0, hostPort.lastIndexOf(':'));
  if (!isLoopbackHost(host(cfg.http.listen))) return `http.listen "${cfg.http.listen}"`;
  for (const [i, l] of cfg.sip.listen.entries()) {
    const text = typeof l === 'string' ? l : l.listen;
    if (!isLoopbackHost(host(text.slice(text.indexOf(':') + 1)))) return `sip.listen[${i}] "${text}"`;
  }
  return undefined;
}

/** Cross-key checks: an HA1 made for another realm; a demo user on a non-loopback listen. */
export function securityIssues(cfg: SecurityView): Issue[] {
  const realm = digestRealm(cfg.sip);
  const issues: Issue[] = [];
  cfg.users.forEach((u, i) => {
    if (typeof u.password !== 'string' && u.password.ha1.realm !== realm) {
      const message = `HA1 was made for realm "${u.password.ha1.realm}" but the digest realm is "${realm}" (sip.realm, else sip.domain, else "gateway"): recompute H(user:realm:password) for it`;
      issues.push({ path: ['users', i, 'password', 'ha1', 'realm'], message });
    }
  });
  const exposed = publicListen(cfg);
  if (exposed === undefined || cfg.security.allowDemoUsers) return issues;
  cfg.users.forEach((u, i) => {
    if (!isDemoPassword(u.name, u.password, realm)) return;
    const message = `demo user "${u.name}" still has its demo password and ${exposed} is not loopback: change the password, or set security.allowDemoUsers: true`;
    issues.push({ path: ['users', i, 'password'], message });
  });
  return issues;
}
