#!/usr/bin/env node
// The trivial HTTP relay, the floor of any Streamable HTTP gateway in front of a stdio server:
// `node http-pipe-relay.mjs <command> [args…]` starts the server, listens on 127.0.0.1 (it prints
// `listening <port>` on stderr) and, for one client making one call at a time, writes each POSTed body to the server's stdin and answers the POST with the server's next answer as
// one SSE event. It parses each line only to tell answers from the server's own notifications; no sessions, no id
// mapping, no checks. What a real gateway's /mcp adds above this process is what its own work costs; what this
// process adds above a direct stdio connection is the HTTP hop and the client's HTTP and SSE handling.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
const waiting = []; // responses of the POSTs whose answer has not come back yet, oldest first

createInterface({ input: child.stdout }).on('line', (line) => {
  const msg = JSON.parse(line);
  if (msg.method !== undefined || msg.id === undefined) return; // the server's own notification or request
  const res = waiting.shift();
  res?.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res?.end(`event: message\ndata: ${line}\n\n`);
});

const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    child.stdin.write(`${body}\n`);
    // A request (it has an id) waits for its answer; a notification or a client's answer is accepted at once.
    if (/"id"\s*:/.test(body) && /"method"\s*:/.test(body)) waiting.push(res);
    else res.writeHead(202).end();
  });
});
server.listen(0, '127.0.0.1', () => process.stderr.write(`listening ${server.address().port}\n`));
child.on('exit', (code) => process.exit(code ?? 0));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
