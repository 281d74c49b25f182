// Debian's Kamailio 5.6 as a PBX stand-in for tests: a registrar with digest auth (no database: the
// passwords are written into the generated config) and a proxy that routes INVITEs from authenticated
// phones to registered contacts. Runs in the foreground (-DD -E) in its own process group on 127.0.0.1;
// `kamcmd` reads its location table through a unix control socket in the temp dir.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeSipPort } from './ports.js';
import { startProcess, type ProcessHandle } from './process.js';

const run = promisify(execFile);

export const KAMAILIO_BIN = '/usr/sbin/kamailio';
export const KAMCMD_BIN = '/usr/sbin/kamcmd';
export const KAMAILIO_MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';

export interface KamailioOptions {
  /** Account name → password. Phones and the gateway authenticate as these. */
  accounts: Record<string, string>;
  /** Digest realm (default "pbx.test"). */
  realm?: string;
  /** UDP port on 127.0.0.1; default a free one. */
  port?: number;
  /** registrar min_expires / max_expires (seconds). */
  minExpires?: number;
  maxExpires?: number;
  /** How long to wait for Kamailio to answer OPTIONS-free readiness (its control socket), ms. */
  startTimeoutMs?: number;
}

export interface KamailioContact {
  address: string;
  expires: number;
}

export interface KamailioHandle {
  readonly port: number;
  /** sip:127.0.0.1:<port> — a registrar/proxy URI for configs. */
  readonly uri: string;
  readonly realm: string;
  readonly process: ProcessHandle;
  /** `kamcmd ul.dump` output (the location table). */
  ulDump(): Promise<string>;
  /** Contacts registered for an AOR (its user part: usrloc runs with use_domain = 0). */
  registeredContacts(aor: string): Promise<KamailioContact[]>;
  /** Kamailio's log (stderr). */
  log(): string;
  stop(): Promise<void>;
}

const ACCOUNT = /^[A-Za-z0-9._~+-]{1,64}$/;
const PASSWORD = /^[^"\\\r\n]{1,128}$/;

/** The per-account password lookup: a switch on the digest username ($au). */
function passwordRoute(accounts: Record<string, string>): string {
  const cases = Object.entries(accounts).map(([name, pw]) => {
    if (!ACCOUNT.test(name)) throw new Error(`kamailio: unusable account name "${name}"`);
    if (!PASSWORD.test(pw)) throw new Error(`kamailio: unusable password for "${name}"`);
    return `    case "${name}":\n      $var(pw) = "${pw}";\n      break;`;
  });
  return ['route[PASSWORD] {', '  $var(pw) = "";', '  switch($au) {', ...cases, '    default:', '      break;', '  }', '}'].join('\n');
}

/** The generated kamailio.cfg. */
export function kamailioConfig(o: { port: number; ctlSocket: string; realm: string; accounts: Record<string, string>; minExpires: number; maxExpires: number }): string {
  const modules = ['kex', 'corex', 'tm', 'sl', 'rr', 'pv', 'maxfwd', 'textops', 'siputils', 'xlog', 'sanity', 'ctl', 'usrloc', 'registrar', 'auth'];
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=2
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:${o.port}
alias="127.0.0.1:${o.port}"

mpath="${KAMAILIO_MODULES}/"
${modules.map((m) => `loadmodule "${m}.so"`).join('\n')}

modparam("ctl", "binrpc", "unixs:${o.ctlSocket}")
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "use_domain", 0)
modparam("registrar", "min_expires", ${o.minExpires})
# RFC 3261 §10.3 step 7: too brief an interval → 423 Interval Too Brief with Min-Expires (not silently raised)
modparam("registrar", "min_expires_mode", 1)
modparam("registrar", "max_expires", ${o.maxExpires})
modparam("registrar", "default_expires", ${Math.min(600, o.maxExpires)})
modparam("rr", "append_fromtag", 1)

request_route {
  xlog("L_INFO", "$rm $ru from $si:$sp (From $fu)\\n");
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (!sanity_check()) {
    exit;
  }
  if (has_totag()) {
    route(WITHINDLG);
    exit;
  }
  if (is_method("CANCEL")) {
    if (t_check_trans()) t_relay();
    exit;
  }
  if (is_method("ACK")) {
    if (t_check_trans()) t_relay();
    exit;
  }
  t_check_trans();
  if (is_method("REGISTER")) {
    route(REGISTRAR);
    exit;
  }
  if (is_method("OPTIONS") && $rU == $null) {
    sl_send_reply("200", "OK");
    exit;
  }
  if (is_method("INVITE")) {
    route(CALL);
    exit;
  }
  sl_send_reply("405", "Method Not Allowed");
}

route[WITHINDLG] {
  if (loose_route()) {
    t_relay();
    exit;
  }
  if (is_method("ACK")) {
    if (t_check_trans()) t_relay();
    exit;
  }
  sl_send_reply("404", "Not Here");
}

# RFC 3261 §10.3 step 3: "A registrar SHOULD authenticate the UAC."
route[REGISTRAR] {
  route(PASSWORD);
  if (!pv_www_authenticate("${o.realm}", "$var(pw)", "0")) {
    www_challenge("${o.realm}", "1");
    exit;
  }
  if ($au != $tU) {
    sl_send_reply("403", "Forbidden: not your AOR");
    exit;
  }
  consume_credentials();
  if (!save("location")) sl_reply_error();
}

# Calls from authenticated accounts (RFC 3261 §22.3 proxy authentication) to registered accounts.
route[CALL] {
  route(PASSWORD);
  if (!pv_proxy_authenticate("${o.realm}", "$var(pw)", "0")) {
    proxy_challenge("${o.realm}", "1");
    exit;
  }
  consume_credentials();
  record_route();
  if (!lookup("location")) {
    sl_send_reply("404", "Not Found");
    exit;
  }
  if (!t_relay()) sl_reply_error();
}

${passwordRoute(o.accounts)}
`;
}

/** Parses `kamcmd ul.dump` (text form) into AOR → contacts. */
export function parseUlDump(text: string): Map<string, KamailioContact[]> {
  const table = new Map<string, KamailioContact[]>();
  let aor: string | undefined;
  let contact: KamailioContact | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const aorMatch = /^AoR:\s*(\S+)/i.exec(line);
    if (aorMatch) {
      aor = aorMatch[1]!;
      table.set(aor, []);
      continue;
    }
    const addr = /^Address:\s*(\S+)/.exec(line);
    if (addr && aor !== undefined) {
      contact = { address: addr[1]!, expires: -1 };
      table.get(aor)!.push(contact);
      continue;
    }
    const exp = /^Expires:\s*(-?\d+)/.exec(line);
    if (exp && contact) contact.expires = Number(exp[1]);
  }
  return table;
}

async function kamcmd(socket: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(KAMCMD_BIN, ['-s', `unixs:${socket}`, ...args], { timeout: 5_000 });
  return stdout;
}

async function waitReady(proc: ProcessHandle, socket: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!proc.running) throw new Error(`kamailio exited during start:\n${proc.stderr().slice(-3000)}`);
    try {
      await kamcmd(socket, 'core.version');
      return;
    } catch (err) {
      last = (err as Error).message;
    }
    // Polling the control socket: Kamailio announces readiness nowhere else.
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kamailio not ready after ${timeoutMs} ms (${last}):\n${proc.stderr().slice(-3000)}`);
}

export async function startKamailio(o: KamailioOptions): Promise<KamailioHandle> {
  const port = o.port ?? (await freeSipPort());
  const realm = o.realm ?? 'pbx.test';
  const dir = mkdtempSync(join(tmpdir(), 'kamailio-'));
  const ctlSocket = join(dir, 'ctl.sock');
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, kamailioConfig({ port, ctlSocket, realm, accounts: o.accounts, minExpires: o.minExpires ?? 60, maxExpires: o.maxExpires ?? 3600 }));
  const args = ['-f', cfg, '-DD', '-E', '-Y', dir, '-m', '64', '-M', '8', '-w', dir];
  const proc = startProcess(KAMAILIO_BIN, args, { name: 'kamailio' });
  const stop = async (): Promise<void> => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(proc, ctlSocket, o.startTimeoutMs ?? 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    uri: `sip:127.0.0.1:${port}`,
    realm,
    process: proc,
    ulDump: () => kamcmd(ctlSocket, 'ul.dump'),
    async registeredContacts(aor) {
      return parseUlDump(await kamcmd(ctlSocket, 'ul.dump')).get(aor) ?? [];
    },
    log: () => proc.stderr(),
    stop,
  };
}
