#!/usr/bin/env node
// The trivial relay, the floor of any stdio gateway: `node pipe-relay.mjs <command> [args…]` starts the server
// and pipes bytes between it and its own stdin/stdout, parsing nothing. What a real gateway adds above this
// process is what its own work costs; what this process adds above a direct connection is the extra hop itself.
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
process.stdin.on('end', () => child.stdin.end());
child.on('exit', (code) => process.exit(code ?? 0));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
