// What the benches read of a process from /proc: its process tree, CPU time and memory fields.
import { readdirSync, readFileSync } from 'node:fs';

/** `pid` and all its descendants (via /proc/<pid>/task/<tid>/children); [] once the process is gone. */
export function tree(pid: number): number[] {
  try {
    const kids = readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
    return [pid, ...kids.flatMap(tree)];
  } catch {
    return [];
  }
}

/** CPU time (ms) of processes from /proc/<pid>/stat (utime + stime, clock ticks of 10 ms). */
export function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks * 10;
}

/** kB of a /proc/<pid>/status (VmRSS) or smaps_rollup (Pss) field; 0 once the process is gone. */
export function procKiB(pid: number, file: 'status' | 'smaps_rollup', field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
