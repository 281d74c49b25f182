// The two systems bench/signalling.ts drives, each started fresh on SYSTEM_IP with a SIPp trunk behind it:
// - the gateway as `npm start` runs it (built bundle, plain node), digest auth + the embedded media engine;
// - Kamailio 5.6 (the test config's shape: digest auth, record-route) + rtpengine userspace doing the same
//   job: proxy_authenticate, rtpengine_manage() on INVITE / 200 / BYE (media anchored), relay to the trunk.
// Both log at their usual production level (gateway info, Kamailio L_INFO off the hot path: debug=1 keeps
// errors only, as a production Kamailio runs).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { KAMAILIO_BIN, KAMAILIO_MODULES } from '../test/support/kamailio.js';
import { tree } from './proc.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const ACCOUNT = { name: 'phone', password: 'phone-secret-150' };
/** Addresses (the bench runs in its own network namespace; the signalling lane's 127.0.150.x block): the
 *  system under test, the phone, the trunk — apart, because the gateway knows its trunk by source IP. */
export const SYSTEM_IP = '127.0.150.1';
export const PHONE_IP = '127.0.150.2';
export const TRUNK_IP = '127.0.150.3';

export interface SignallingTarget {
  readonly name: string;
  /** Where the phone sends (SYSTEM_IP:port). */
  readonly sipPort: number;
  /** Every process doing the job (CPU and RSS are summed over them). */
  pids(): number[];
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }, 3000);
  await done;
  clearTimeout(timer);
}

function startLogged(cmd: string, args: string[], logFile: string, cwd = root): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return child;
}

async function waitFor(what: string, cond: () => boolean, child: ChildProcess, logFile: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (child.exitCode !== null) throw new Error(`${what} exited: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    if (Date.now() > end) throw new Error(`${what} did not start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    await sleep(100);
  }
}

export async function startGateway(o: { sipPort: number; httpPort: number; trunkPort: number; rtpPorts: string }): Promise<SignallingTarget> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-sig-gw-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, stringify({
    http: { listen: `${SYSTEM_IP}:${o.httpPort}` },
    sip: { listen: [`udp:${SYSTEM_IP}:${o.sipPort}`] },
    media: { rtpPorts: o.rtpPorts, address: SYSTEM_IP },
    // A trunk-sized account: no per-user concurrent or hourly call limit (dialRules defaults 4 and 60).
    users: [{ ...ACCOUNT, maxCalls: 0, callsPerHour: 0 }],
    trunks: [{ name: 'sipp', uri: `sip:${TRUNK_IP}:${o.trunkPort}`, keepalive: false }],
    routes: [{ match: '^\\d{4,15}$', trunk: 'sipp' }],
    registrar: { maxExpires: 3600 },
    // One phone stands for a carrier's many sources: no per-source rate ban (the anchor runs no pike
    // either); overload control stays on as configured by default.
    security: { rateLimit: false },
    log: { level: process.env.BENCH_GATEWAY_LOG ?? 'info', format: 'json' },
  }));
  const log = path.join(dir, 'gateway.log');
  // BENCH_GATEWAY_NODE_ARGS: extra node flags for a look inside (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const extra = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = startLogged(process.execPath, [...extra, 'build/gateway/main.js', '--config', file], log);
  await waitFor('gateway', () => /Gateway page:/.test(readFileSync(log, 'utf8')), child, log);
  return { name: 'gateway', sipPort: o.sipPort, pids: () => tree(child.pid!), stop: () => stopChild(child) };
}

/** Kamailio + rtpengine: the anchor. */
export function kamailioAnchorConfig(o: { port: number; ngPort: number; trunkPort: number; realm: string }): string {
  const modules = ['kex', 'corex', 'tm', 'sl', 'rr', 'pv', 'maxfwd', 'textops', 'siputils', 'sanity', 'usrloc', 'registrar', 'auth', 'rtpengine'];
  return `#!KAMAILIO
debug=1
log_stderror=yes
children=${Number(process.env.BENCH_KAMAILIO_CHILDREN ?? 2)}
disable_tcp=yes
auto_aliases=no
listen=udp:${SYSTEM_IP}:${o.port}
alias="${SYSTEM_IP}:${o.port}"
mpath="${KAMAILIO_MODULES}/"
${modules.map((m) => `loadmodule "${m}.so"`).join('\n')}
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "use_domain", 0)
modparam("registrar", "max_expires", 3600)
modparam("rr", "append_fromtag", 1)
modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:${o.ngPort}")

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (!sanity_check()) exit;
  if (has_totag()) {
    if (loose_route()) {
      if (is_method("BYE")) rtpengine_manage();
      t_relay();
      exit;
    }
    if (is_method("ACK") && t_check_trans()) t_relay();
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { rtpengine_manage(); t_relay(); } exit; }
  if (is_method("ACK")) { if (t_check_trans()) t_relay(); exit; }
  t_check_trans();
  if (is_method("REGISTER")) {
    if (!pv_www_authenticate("${o.realm}", "${ACCOUNT.password}", "0")) { www_challenge("${o.realm}", "1"); exit; }
    if ($au != $tU) { sl_send_reply("403", "Forbidden"); exit; }
    consume_credentials();
    if (!save("location")) sl_reply_error();
    exit;
  }
  if (is_method("INVITE")) {
    if (!pv_proxy_authenticate("${o.realm}", "${ACCOUNT.password}", "0")) { proxy_challenge("${o.realm}", "1"); exit; }
    consume_credentials();
    record_route();
    rtpengine_manage();
    $du = "sip:${TRUNK_IP}:${o.trunkPort}";
    t_on_reply("MEDIA");
    if (!t_relay()) sl_reply_error();
    exit;
  }
  sl_send_reply("405", "Method Not Allowed");
}

onreply_route[MEDIA] {
  if (has_body("application/sdp")) rtpengine_manage();
}
`;
}

export async function startKamailioAnchor(o: { sipPort: number; ngPort: number; trunkPort: number; rtpMin: number }): Promise<SignallingTarget> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-sig-kam-'));
  const rtpLog = path.join(dir, 'rtpengine.log');
  const rtpengine = startLogged('/usr/bin/rtpengine', [
    '--table=-1', `--interface=${SYSTEM_IP}`, `--listen-ng=127.0.0.1:${o.ngPort}`, `--port-min=${o.rtpMin}`,
    `--port-max=${o.rtpMin + 9999}`, '--foreground', '--log-stderr', '--log-level=3',
  ], rtpLog);
  await sleep(300);
  const cfg = path.join(dir, 'kamailio.cfg');
  writeFileSync(cfg, kamailioAnchorConfig({ port: o.sipPort, ngPort: o.ngPort, trunkPort: o.trunkPort, realm: 'bench.test' }));
  const kamLog = path.join(dir, 'kamailio.log');
  const kamailio = startLogged(KAMAILIO_BIN, ['-f', cfg, '-DD', '-E', '-m', '256', '-M', '32', '-Y', dir, '-P', path.join(dir, 'k.pid')], kamLog);
  // Ready: its children are up (the main process forks the UDP workers and the timers).
  await waitFor('kamailio', () => tree(kamailio.pid!).length >= 3, kamailio, kamLog);
  await sleep(500);
  return {
    name: 'kamailio+rtpengine',
    sipPort: o.sipPort,
    pids: () => [...tree(kamailio.pid!), ...tree(rtpengine.pid!)],
    stop: async () => {
      await stopChild(kamailio);
      await stopChild(rtpengine);
    },
  };
}
