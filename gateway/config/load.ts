// Load and validate the YAML configuration once, at start. Every error names the file and the key.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { ZodIssue } from 'zod';
import { parseAdvertise } from './addresses.js';
import { configSchema, type GatewayConfig, type SipListenEntry } from './schema.js';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function keyPath(path: ReadonlyArray<string | number>): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function describeIssue(issue: ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${keyPath(issue.path)}: ` : '';
    return [`${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`];
  }
  if (issue.code === 'invalid_union') {
    // The one alternative of the value's own type (a sip.listen string vs { listen, advertise }) says best
    // what is wrong, down to the nested key; when none or several fit, name what is expected.
    const fits = issue.unionErrors.filter((e) => !e.issues.some((i) => i.code === 'invalid_type' && i.path.length === issue.path.length));
    if (fits.length === 1) return fits[0]!.issues.flatMap(describeIssue);
    if (issue.path.at(-1) === 'password') return [`${keyPath(issue.path)}: expected a password, or { ha1: { realm, md5?, sha256? } }`];
    if (issue.path[0] === 'sip') return [`${keyPath(issue.path)}: expected "udp|tcp|tls:host:port" or { listen, advertise }`];
    return [`${keyPath(issue.path)}: expected { match, trunk }, { match, trunks: [...] }, { match, echo: true } or { match, user }`];
  }
  return [`${keyPath(issue.path)}: ${issue.message}`];
}

/** Validate an already-parsed object (tests build configs this way). */
export function parseConfig(raw: unknown, source: string): GatewayConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(source, result.error.issues.flatMap(describeIssue));
  return result.data;
}

/** Read, parse and validate a YAML file. */
export function loadConfigFile(file: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read file: ${(err as Error).message}`]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]}`));
  }
  return resolvePaths(parseConfig(doc.toJS(), file), path.dirname(path.resolve(file)));
}

/** File paths in the config (TLS PEM files, the registration store, the CDR file) are relative to the config file. */
function resolvePaths(config: GatewayConfig, dir: string): GatewayConfig {
  const abs = (p: string): string => path.resolve(dir, p);
  const tls = config.http.tls && { cert: abs(config.http.tls.cert), key: abs(config.http.tls.key) };
  const trunks = config.trunks.map((t) => (t.tls?.ca ? { ...t, tls: { ...t.tls, ca: abs(t.tls.ca) } } : t));
  return {
    ...config,
    trunks,
    http: { ...config.http, ...(tls ? { tls } : {}) },
    registrar: { ...config.registrar, ...(config.registrar.store ? { store: abs(config.registrar.store) } : {}) },
    cdr: { ...config.cdr, ...(config.cdr.path ? { path: abs(config.cdr.path) } : {}) },
  };
}

/** "host:port" → parts; IPv6 in brackets. */
export function splitHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  const host = value.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(value.slice(i + 1)) };
}

/** A parsed sip.listen entry: what to bind, and the advertise the entry itself names (if any). */
export interface SipListenPoint {
  transport: 'udp' | 'tcp' | 'tls';
  address: string;
  port: number;
  /** From the object form's advertise: host, and port when given (else the bound port is advertised). */
  advertise?: { address: string; port?: number };
}

/** "udp:127.0.0.1:5060" or { listen: "udp:0.0.0.0:5060", advertise: "203.0.113.10[:5060]" } → parts. */
export function parseSipListen(entry: SipListenEntry): SipListenPoint {
  const value = sipListenText(entry);
  const transport = value.slice(0, value.indexOf(':')) as 'udp' | 'tcp' | 'tls';
  const { host, port } = splitHostPort(value.slice(transport.length + 1));
  const advertised = typeof entry === 'string' || entry.advertise === undefined ? undefined : parseAdvertise(entry.advertise);
  if (!advertised) return { transport, address: host, port };
  return { transport, address: host, port, advertise: { address: advertised.host, ...(advertised.port ? { port: advertised.port } : {}) } };
}

/** The "transport:host:port" text of either form of a sip.listen entry. */
export function sipListenText(entry: SipListenEntry): string {
  return typeof entry === 'string' ? entry : entry.listen;
}

/** "20000-20999" → parts. */
export function parsePortRange(value: string): { from: number; to: number } {
  const [from, to] = value.split('-').map(Number) as [number, number];
  return { from, to };
}
