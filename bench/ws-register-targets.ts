// The two WebSocket registrars bench/ws-register.ts drives, each started fresh on WS_IP:
// - the gateway as `npm start` runs it (node build/gateway/main.js), SIP over WebSocket on its web server's
//   /sip, N users in its config (users[]: the config has no lighter form), its defaults otherwise (per-source
//   limits and overload control on; every client comes from its own address);
// - Kamailio 5.6 as a WebSocket registrar: xhttp + websocket (ws_handle_handshake on /), nathelper
//   (fix_nated_register: the WebSocket flow kept with the contact), registrar/usrloc in memory, digest auth
//   against passwords loaded at start into an htable from a db_text table (a hash lookup per REGISTER, as the
//   gateway's users map; Kamailio's auth_db over db_text would scan the table per request), TCP connections
// Both log at their production level (gateway info, Kamailio errors only).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { KAMAILIO_BIN, KAMAILIO_MODULES } from '../test/support/kamailio.js';
import { startProcess, type ProcessHandle } from '../test/support/process.js';
import { tree } from './proc.js';
import { userName, userPassword } from './ws-register-load.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The registrar's address (the bench runs in its own network namespace; clients come from 127.152.x.y). */
export const WS_IP = '127.0.152.1';
export const DOMAIN = 'bench.test';

export type System = 'gateway' | 'kamailio';

export interface WsTarget {
  readonly name: System;
  /** ws://WS_IP:port/sip */
  readonly url: string;
  /** Every process doing the job (CPU and memory summed over them). */
  pids(): number[];
  /** The gateway's own view from its /metrics (prom-client's defaults; answered to loopback clients):
   *  V8 heap in use, and the event-loop delay p99 since the previous read (prom-client resets it per scrape). */
  metrics?(): Promise<{ heapUsedKiB: number; loopP99Ms: number }>;
  stop(): Promise<void>;
}

/** One sample's value from Prometheus text, NaN when absent. */
export function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, proc: ProcessHandle, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (!proc.running) throw new Error(`${what} exited: ${(proc.stderr() + proc.stdout()).slice(-2000)}`);
    if (Date.now() > end) throw new Error(`${what} did not start: ${(proc.stderr() + proc.stdout()).slice(-2000)}`);
    await sleep(100);
  }
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host: WS_IP, port }, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

/** users u0 … u<users-1> with their passwords. */
export async function startGateway(o: { httpPort: number; sipPort: number; users: number }): Promise<WsTarget> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-wsreg-gw-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, stringify({
    http: { listen: `${WS_IP}:${o.httpPort}` },
    sip: { listen: [`udp:${WS_IP}:${o.sipPort}`], domain: DOMAIN, limits: { maxConnections: Math.max(4096, o.users + 256) } },
    media: { rtpPorts: '30000-30999', address: WS_IP },
    registrar: { maxExpires: 3600 },
    users: Array.from({ length: o.users }, (_, i) => ({ name: userName(i), password: userPassword(i) })),
    log: { level: process.env.BENCH_GATEWAY_LOG ?? 'info', format: 'json' },
  }));
  const extra = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = startProcess(process.execPath, [...extra, 'build/gateway/main.js', '--config', file], { cwd: root, name: 'gateway' });
  await until('gateway', async () => /Gateway page:/.test(proc.stdout()) && (await accepts(o.httpPort)), proc);
  const metrics = async (): Promise<{ heapUsedKiB: number; loopP99Ms: number }> => {
    const text = await fetch(`http://${WS_IP}:${o.httpPort}/metrics`).then((r) => r.text());
    return { heapUsedKiB: metricValue(text, 'nodejs_heap_size_used_bytes') / 1024, loopP99Ms: 1000 * metricValue(text, 'nodejs_eventloop_lag_p99_seconds') };
  };
  return { name: 'gateway', url: `ws://${WS_IP}:${o.httpPort}/sip`, pids: () => tree(proc.pid), metrics, stop: async () => void (await proc.stop()) };
}

export function kamailioWsConfig(o: { port: number; dbDir: string; maxConnections: number }): string {
  const modules = ['kex', 'corex', 'sl', 'pv', 'maxfwd', 'textops', 'siputils', 'sanity', 'usrloc', 'registrar', 'auth',
    'db_text', 'htable', 'nathelper', 'xhttp', 'websocket'];
  return `#!KAMAILIO
debug=1
log_stderror=yes
auto_aliases=no
tcp_children=${Number(process.env.BENCH_KAMAILIO_CHILDREN ?? 2)}
tcp_accept_no_cl=yes
tcp_max_connections=${o.maxConnections}
tcp_connection_lifetime=3605
open_files_limit=${o.maxConnections + 512}
listen=tcp:${WS_IP}:${o.port}
alias="${DOMAIN}"
mpath="${KAMAILIO_MODULES}/"
${modules.map((m) => `loadmodule "${m}.so"`).join('\n')}
modparam("htable", "db_url", "text://${o.dbDir}")
modparam("htable", "htable", "pw=>size=14;dbtable=htable;")
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "use_domain", 0)
modparam("registrar", "max_expires", 3600)
modparam("nathelper|registrar", "received_avp", "$avp(RECEIVED)")

event_route[xhttp:request] {
  set_reply_close();
  set_reply_no_connect();
  if ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {
    if (ws_handle_handshake()) exit;
  }
  xhttp_reply("404", "Not Found", "", "");
}

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (!sanity_check()) exit;
  if (nat_uac_test("64")) {
    force_rport();
    if (is_method("REGISTER")) fix_nated_register();
  }
  if (is_method("REGISTER")) {
    if (!pv_www_authenticate("${DOMAIN}", "$sht(pw=>$au)", "0")) { www_challenge("${DOMAIN}", "1"); exit; }
    if ($au != $tU) { sl_send_reply("403", "Forbidden"); exit; }
    consume_credentials();
    if (!save("location")) sl_reply_error();
    exit;
  }
  sl_send_reply("405", "Method Not Allowed");
}
`;
}

/** The htable's db_text table: one row per user (key u<i>, string value: the password). */
function writeAccounts(dbDir: string, users: number): void {
  writeFileSync(path.join(dbDir, 'version'), 'table_name(string) table_version(int) \nhtable:2\n');
  const rows = Array.from({ length: users }, (_, i) => `${i + 1}:${userName(i)}:0:0:${userPassword(i)}:0`);
  writeFileSync(path.join(dbDir, 'htable'), `id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int) \n${rows.join('\n')}\n`);
}

export async function startKamailio(o: { port: number; users: number }): Promise<WsTarget> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-wsreg-kam-'));
  const dbDir = path.join(dir, 'db');
  mkdirSync(dbDir);
  writeAccounts(dbDir, o.users);
  const cfg = path.join(dir, 'kamailio.cfg');
  writeFileSync(cfg, kamailioWsConfig({ port: o.port, dbDir, maxConnections: o.users + 512 }));
  const proc = startProcess(KAMAILIO_BIN, ['-f', cfg, '-DD', '-E', '-m', '256', '-M', '16', '-Y', dir, '-w', dir], { name: 'kamailio' });
  await until('kamailio', () => accepts(o.port), proc);
  await sleep(500);
  return { name: 'kamailio', url: `ws://${WS_IP}:${o.port}/sip`, pids: () => tree(proc.pid), stop: async () => void (await proc.stop()) };
}
