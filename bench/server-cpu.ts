/**
 * The CPU time of processes, read from /proc, for the benchmarks that time whole commands: the
 * command's own (procCpuS) and the local database server's processes serving it (serverCpuProbe).
 */
import { readFileSync } from 'node:fs';
import { BENCH_BASE_URL } from './scratch-db.ts';

/** utime + stime of a process in seconds (fields 14 and 15 of proc(5) stat, in clock ticks: 100 per second on Linux); null once it is gone. */
export function procCpuS(pid: number): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * The CPU of the server backends of database `dbName` while a command runs, read from /proc
 * alone: the backends are the postmaster's children whose process title names the database (and
 * the parallel workers of those). The postmaster is found once, before the command starts, as the
 * parent of a backend of our own; null when the server is not local or /proc does not tell.
 *
 * bench:scrub polled pg_stat_activity at first: a query every 25 ms while the command ran, so the bench
 * woke, a server backend parsed and ran it and the answer came back, all on the two cores the
 * command itself needs. A poll here is a few small reads of /proc by this process, nothing else.
 */
export async function serverCpuProbe(dbName: string): Promise<{ poll: () => void; totalS: () => number } | null> {
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: BENCH_BASE_URL });
  await admin.connect();
  let postmaster: number;
  try {
    const own = (await admin.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const f = readFileSync(`/proc/${own}/stat`, 'utf8');
    postmaster = Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[1]);
    readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8');
  } catch {
    return null;
  } finally {
    await admin.end();
  }
  /** The backends found serving dbName. A title that does not name it is read again at the next poll: a backend just forked still shows the postmaster's command line. */
  const ours = new Set<number>();
  /** Each backend's highest reading: one that ends between two polls loses at most one interval. */
  const seen = new Map<number, number>();
  /** What a backend had used when the probe was made (one serving the database already): not the command's. */
  const before = new Map<number, number>();
  const title = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      return '';
    }
  };
  const probe = {
    poll() {
      let children: string;
      try {
        children = readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8');
      } catch {
        return;
      }
      for (const c of children.split(' ')) {
        const pid = Number(c);
        if (!pid) continue;
        if (!ours.has(pid)) {
          const t = title(pid);
          const leader = /parallel worker for PID (\d+)/.exec(t)?.[1];
          if (!t.includes(` ${dbName} `) && !(leader !== undefined && ours.has(Number(leader)))) continue;
          ours.add(pid);
        }
        const cpu = procCpuS(pid);
        if (cpu !== null) seen.set(pid, Math.max(seen.get(pid) ?? 0, cpu));
      }
    },
    totalS: () => [...seen].reduce((sum, [pid, cpu]) => sum + cpu - (before.get(pid) ?? 0), 0),
  };
  probe.poll();
  for (const [pid, cpu] of seen) before.set(pid, cpu);
  return probe;
}
