import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Where the whole machine's CPU went while a run went on: the measuring process, the sink, the
 * PostgreSQL server, Redis, everything else, and what stayed idle. On two cores the pipeline's
 * rate is bounded by all of these together, not by its own process alone.
 */
export interface MachineCpu {
  process: number;
  sink: number;
  postgres: number;
  redis: number;
  other: number;
  idle: number;
}

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** utime + stime of one process, in ticks; 0 for one that has gone. */
function processTicks(pid: string): { comm: string; ticks: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields are counted after its end.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

type Group = Exclude<keyof MachineCpu, 'idle'>;

interface Snapshot {
  processes: Map<string, { group: Group; ticks: number }>;
  idle: number;
}

function snapshot(sinkPid: number | undefined): Snapshot {
  const processes = new Map<string, { group: Group; ticks: number }>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const own = processTicks(pid);
    if (!own) continue;
    const group: Group =
      Number(pid) === process.pid
        ? 'process'
        : Number(pid) === sinkPid
          ? 'sink'
          : own.comm === 'postgres'
            ? 'postgres'
            : own.comm.startsWith('redis-server')
              ? 'redis'
              : 'other';
    processes.set(pid, { group, ticks: own.ticks });
  }
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { processes, idle: cpu[3]! + cpu[4]! };
}

/**
 * Starts counting; `stop(messages)` answers each group's CPU milliseconds per message since. A
 * process counts from when it started or the count did; one that ended meanwhile is not counted.
 */
export function measureMachineCpu(sinkPid: number | undefined): { stop(messages: number): MachineCpu } {
  const before = snapshot(sinkPid);
  return {
    stop(messages) {
      const after = snapshot(sinkPid);
      const totals: MachineCpu = { process: 0, sink: 0, postgres: 0, redis: 0, other: 0, idle: after.idle - before.idle };
      for (const [pid, { group, ticks }] of after.processes) totals[group] += Math.max(0, ticks - (before.processes.get(pid)?.ticks ?? 0));
      const perMessage = (ticks: number) => (ticks * TICK_MS) / messages;
      return {
        process: perMessage(totals.process),
        sink: perMessage(totals.sink),
        postgres: perMessage(totals.postgres),
        redis: perMessage(totals.redis),
        other: perMessage(totals.other),
        idle: perMessage(totals.idle),
      };
    },
  };
}
