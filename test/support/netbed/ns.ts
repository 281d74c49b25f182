// Network namespaces for the test bed: create, run a short command inside, delete. Every namespace
// made here is remembered and deleted on process exit too (a last resort, synchronous), so a failed
// or killed test leaves nothing behind; namespaces of a crashed run are swept before a new bed starts.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs a short command (ip, nft, sysctl …) to completion; rejects with its stderr on failure. */
export async function sh(cmd: string, args: readonly string[], input?: string): Promise<string> {
  try {
    if (input === undefined) return (await execFileAsync(cmd, args, { timeout: 15_000 })).stdout;
    return await new Promise<string>((resolve, reject) => {
      const child = execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) =>
        err ? reject(Object.assign(err, { stderr })) : resolve(stdout),
      );
      child.stdin?.end(input);
    });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

/** Runs `cmd` inside namespace `ns` to completion. */
export function nsExec(ns: string, cmd: string, args: readonly string[], input?: string): Promise<string> {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
}

const owned = new Set<string>();

export async function addNamespace(ns: string): Promise<void> {
  await sh('ip', ['netns', 'add', ns]);
  owned.add(ns);
  // Only IPv4 from the documentation ranges: no IPv6 link-local chatter, no v6 ICE candidates.
  await nsExec(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
}

function pidsIn(ns: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Kills whatever still runs inside `ns` (only our own processes can be there) and deletes it. */
export function deleteNamespaceSync(ns: string): void {
  for (const pid of pidsIn(ns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // already deleted
  }
  owned.delete(ns);
}

export function listNamespaces(): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.split(' ')[0]!.trim())
    .filter(Boolean);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes namespaces named `<prefix>-<pid>-…` whose creating process (pid) is gone: leftovers of a
 * crashed run. Namespaces of a run still alive (another test process) are left alone.
 */
export function sweepLeftovers(prefix: string): string[] {
  const swept: string[] = [];
  for (const ns of listNamespaces()) {
    const m = ns.startsWith(`${prefix}-`) ? /^(\d+)-/.exec(ns.slice(prefix.length + 1)) : null;
    if (m && !alive(Number(m[1]))) {
      deleteNamespaceSync(ns);
      swept.push(ns);
    }
  }
  return swept;
}

process.once('exit', () => {
  for (const ns of [...owned]) deleteNamespaceSync(ns);
});
