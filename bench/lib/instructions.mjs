// Instructions executed by one process, counted by valgrind's callgrind: a figure that, unlike a timing, does not
// change with the load other work puts on the machine. The process runs under
// `valgrind --tool=callgrind --instr-atstart=no`; callgrind_control switches counting on and reads the totals,
// so only the calls between two reads are counted (start-up and warm-up are not).
import { spawnSync } from 'node:child_process';

const CONTROL_TIMEOUT_MS = 30000;

/** Whether valgrind and callgrind_control are installed (`apt-get install valgrind`). */
export function callgrindAvailable() {
  const v = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  const c = spawnSync('callgrind_control', ['--version'], { encoding: 'utf8' });
  return v.status === 0 && c.status === 0;
}

/** The command prefix that runs a process under callgrind with counting off until switched on. */
export function callgrindPrefix(outFile) {
  return ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outFile}`, '--quiet'];
}

function control(pid, args) {
  const r = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8', timeout: CONTROL_TIMEOUT_MS });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} ${pid}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Switch callgrind's counting on (it costs a re-translation of the code, so warm up again after it). */
export const countingOn = (pid) => control(pid, ['--instr=on']);

/**
 * Instructions counted so far in `pid`: on its main thread (the event loop, where a call is relayed) and in all its
 * threads (V8's compiler and GC helpers, libuv's pool). The helpers' share moves with the scheduling of the
 * machine (valgrind runs one thread at a time); the main thread's far less.
 */
export function instructionsSoFar(pid) {
  const out = control(pid, ['-e', 'Ir']);
  let total = 0;
  let main;
  for (const line of out.split('\n')) {
    const m = /^\s*Th\s*(\d+)\s+([\d,]+)\s*$/.exec(line);
    if (m) {
      const n = Number(m[2].replaceAll(',', ''));
      total += n;
      if (m[1] === '1') main = n;
    }
  }
  if (main === undefined)
    throw new Error(`callgrind_control -e ${pid}: no counters in ${JSON.stringify(out.slice(0, 200))}`);
  return { main, total };
}
