// A Debian Kamailio (5.6, tls.so from kamailio-tls-modules) as a TLS SIP proxy on loopback: it accepts
// SIP over TLS on tls:127.0.0.1:<tlsPort> with the test certificate, Record-Routes INVITEs and forwards
// every request over UDP to one next hop (SIPp). Each request it receives is logged by xlog as
//   "TLSTEST in <method> from <ip>:<port> proto=<$pr>"
// so a test can assert the transport the gateway used.
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { startProcess, type ProcessHandle } from '../../support/process.js';

export const KAMAILIO_BIN = '/usr/sbin/kamailio';
export const KAMAILIO_MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';

export interface KamailioTlsOptions {
  dir: string;
  tlsPort: number;
  udpPort: number;
  /** Where requests go: the SIPp UAS over UDP. */
  nextHop: { address: string; port: number };
  cert: string;
  key: string;
}

export interface KamailioTls {
  proc: ProcessHandle;
  /** The "TLSTEST in …" lines logged so far. */
  requests(): Array<{ method: string; from: string; proto: string }>;
  stop(): Promise<unknown>;
}

export function hasKamailioTls(): boolean {
  return existsSync(KAMAILIO_BIN) && existsSync(join(KAMAILIO_MODULES, 'tls.so'));
}

function tlsCfg(o: KamailioTlsOptions): string {
  return [
    '[server:default]',
    'method = TLSv1.2+',
    'verify_certificate = no',
    'require_certificate = no',
    `certificate = ${o.cert}`,
    `private_key = ${o.key}`,
    '',
    '[client:default]',
    'method = TLSv1.2+',
    'verify_certificate = no',
    'require_certificate = no',
    '',
  ].join('\n');
}

function kamailioCfg(o: KamailioTlsOptions, tlsFile: string): string {
  return `#!KAMAILIO
debug=1
log_stderror=yes
children=1
tcp_children=1
enable_tls=yes
auto_aliases=no
listen=tls:127.0.0.1:${o.tlsPort}
listen=udp:127.0.0.1:${o.udpPort}
mpath="${KAMAILIO_MODULES}/"
loadmodule "tls.so"
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "xlog.so"
modparam("tls", "config", "${tlsFile}")
request_route {
  xlog("L_NOTICE", "TLSTEST in $rm from $si:$sp proto=$pr\\n");
  if (loose_route()) { t_relay(); exit; }
  if ($rm == "INVITE") { record_route(); }
  $du = "sip:${o.nextHop.address}:${o.nextHop.port};transport=udp";
  t_relay();
}
`;
}

/** Resolves once the TLS port accepts connections; rejects if Kamailio exits or after 10 s. */
async function waitListening(proc: ProcessHandle, port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!proc.running) throw new Error(`kamailio exited: ${proc.stderr().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`kamailio not listening on tls:${port} within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startKamailioTls(o: KamailioTlsOptions): Promise<KamailioTls> {
  const tlsFile = join(o.dir, 'kamailio-tls.cfg');
  const cfgFile = join(o.dir, 'kamailio.cfg');
  writeFileSync(tlsFile, tlsCfg(o));
  writeFileSync(cfgFile, kamailioCfg(o, tlsFile));
  const proc = startProcess(KAMAILIO_BIN, ['-f', cfgFile, '-DD', '-E', '-m', '32', '-M', '8', '-Y', o.dir, '-w', o.dir], { name: 'kamailio' });
  try {
    await waitListening(proc, o.tlsPort);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    proc,
    requests: () =>
      [...proc.stderr().matchAll(/TLSTEST in (\S+) from (\S+) proto=(\S+)/g)].map((m) => ({ method: m[1]!, from: m[2]!, proto: m[3]! })),
    stop: () => proc.stop(),
  };
}
