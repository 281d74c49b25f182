// Throwaway PKI for TLS tests: a CA and a server certificate for localhost / 127.0.0.1, made with
// /usr/bin/openssl in a temp directory at test time (no key is ever committed). Also a second, unrelated
// CA so a test can present a certificate nobody trusts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OPENSSL_BIN = '/usr/bin/openssl';

export interface TestPki {
  dir: string;
  /** PEM paths. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** PEM text of the CA certificate (for `ca` options). */
  ca: string;
  cert: string;
  key: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync(OPENSSL_BIN, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA (CN "<name> Test CA") and a server certificate it signed with SANs DNS:localhost and
 *  IP:127.0.0.1, EC P-256 keys, valid one day. */
export function createTestPki(name = 'gateway'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), `${name}-pki-`));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', `/CN=${name} Test CA`], dir);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(
    join(dir, 'server.ext'),
    ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature', 'extendedKeyUsage=serverAuth', 'subjectAltName=DNS:localhost,IP:127.0.0.1', ''].join('\n'),
  );
  openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'server.ext'],
    dir,
  );
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    ca: read('ca.pem'),
    cert: read('server.pem'),
    key: read('server.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
