// TLS material named by the configuration: the server certificate/key (http.tls, also presented by
// "tls:" SIP listening points) and each TLS trunk's client settings (trunks[].tls). Every failure names the
// config key and the file, so a start-up error says exactly what to fix.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { TlsConfig, TrunkConfig } from '../config/schema.js';
import { parseUri } from '../sip/message/index.js';
import type { TlsPeer } from '../sip/transport/index.js';
import { transportOf } from '../sip/ua/target.js';

export class TlsConfigError extends Error {
  constructor(
    readonly key: string,
    readonly file: string,
    reason: string,
  ) {
    super(`${key}: ${file}: ${reason}`);
    this.name = 'TlsConfigError';
  }
}

export interface ServerCredentials {
  cert: string;
  key: string;
}

function readPem(key: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TlsConfigError(key, file, `cannot read: ${(err as Error).message}`);
  }
  if (!text.includes('-----BEGIN ')) throw new TlsConfigError(key, file, 'not a PEM file (no "-----BEGIN" line)');
  return text;
}

function firstLine(err: unknown): string {
  return ((err as Error).message ?? String(err)).split('\n')[0]!;
}

/** http.tls → PEM text, checked: the certificate parses, the key parses, and they belong together. */
export function loadServerCredentials(tls: TlsConfig): ServerCredentials {
  const cert = readPem('http.tls.cert', tls.cert);
  const key = readPem('http.tls.key', tls.key);
  try {
    new X509Certificate(cert);
  } catch (err) {
    throw new TlsConfigError('http.tls.cert', tls.cert, `not a valid certificate: ${firstLine(err)}`);
  }
  try {
    createPrivateKey(key);
  } catch (err) {
    throw new TlsConfigError('http.tls.key', tls.key, `not a valid private key: ${firstLine(err)}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new TlsConfigError('http.tls.key', tls.key, `does not match the certificate ${tls.cert} (http.tls.cert): ${firstLine(err)}`);
  }
  return { cert, key };
}

/** The CA PEM of trunks[i].tls.ca, checked to hold at least one certificate. */
function loadCa(index: number, file: string): string {
  const key = `trunks[${index}].tls.ca`;
  const pem = readPem(key, file);
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new TlsConfigError(key, file, `not a valid certificate: ${firstLine(err)}`);
  }
  return pem;
}

/** Outbound TLS settings of every trunk whose URI selects TLS (;transport=tls or sips:, RFC 3263 §4.1),
 *  keyed by the URI host and port (RFC 3261 §19.1.2: default 5061). */
export function trunkTlsPeers(trunks: readonly TrunkConfig[]): TlsPeer[] {
  const peers: TlsPeer[] = [];
  trunks.forEach((trunk, i) => {
    let uri;
    try {
      uri = parseUri(trunk.uri);
      if (transportOf(uri) !== 'tls') return;
    } catch {
      return; // the call layer reports an unusable trunk URI when it is used
    }
    const host = uri.host.replace(/^\[(.*)\]$/, '$1');
    const peer: TlsPeer = { host, port: uri.port ?? 5061, verify: trunk.tls?.verify ?? true };
    if (trunk.tls?.ca) peer.ca = loadCa(i, trunk.tls.ca);
    peers.push(peer);
  });
  return peers;
}
