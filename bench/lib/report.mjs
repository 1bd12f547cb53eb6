// BENCHMARKS.md: machine details, how to read it, one section per scenario, then the targets of issue 4.
import { num } from './stats.mjs';

const TITLES = {
  latency: '1. Latency: `echo` on server-everything, one call at a time',
  throughput: '2. Throughput: 1, 16 and 64 concurrent client sessions',
  memory: '3. Memory: the gateway process alone',
  startup: '4. Start-up: 10 servers',
  reload: '5. Reload: config write → `notifications/tools/list_changed`',
  codemode: '6. Code Mode',
  search: '7. Code Mode search: retrieval on real servers',
  instructions: '8. Instructions per relayed call (callgrind): the load-independent figure',
};

export const GATEWAY_COMMANDS = [
  [
    'server-everything (backend of every row)',
    '`node node_modules/@modelcontextprotocol/server-everything/dist/index.js stdio`',
  ],
  [
    'server-everything’s own HTTP (reference)',
    '`PORT=<port> node …/server-everything/dist/index.js streamableHttp` (`/mcp`), `… sse` (`/sse`)',
  ],
  [
    'mcproxy, HTTP fronts',
    '`node <flags of its shebang, e.g. --max-semi-space-size=2> dist/main.js --config mcproxy.json --port 0 --host 127.0.0.1 --log [--json-response]` (as the `mcproxy` bin runs) with `{"servers": {"everything": {"command": "node", "args": ["…/dist/index.js", "stdio"]}}}`; tool `everything__echo`; `/mcp`, `/sse`',
  ],
  [
    'mcproxy, stdio front',
    '`node <shebang flags> dist/main.js --stdio --config mcproxy.json` spawned by the SDK client',
  ],
  [
    'trivial relay (the floor of the stdio front)',
    '`node bench/lib/pipe-relay.mjs node …/server-everything/dist/index.js stdio` spawned by the SDK client: pipes bytes both ways, parses nothing',
  ],
  [
    'trivial HTTP relay (the floor of the /mcp front)',
    '`node bench/lib/http-pipe-relay.mjs node …/server-everything/dist/index.js stdio`: writes each POST body to the server’s stdin and answers the POST with the server’s next answer as one SSE event (one client, one call at a time; no sessions, ids or checks); tool `echo`',
  ],
  [
    'supergateway 4.0.0',
    '`node bench/.peers/node_modules/supergateway/dist/index.js --stdio "node …/server-everything/dist/index.js stdio" --port <port> --logLevel none --healthEndpoint /healthz` (`/sse` + `/message`); `… --outputTransport streamableHttp` (`/mcp`, stateless: a server process per request) and `… --outputTransport streamableHttp --stateful` (a server process per session)',
  ],
  [
    'mcp-proxy 6.7',
    '`node bench/.peers/node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs --port <port> --host 127.0.0.1 -- node …/server-everything/dist/index.js stdio` (`/mcp` and `/sse`, one shared upstream client)',
  ],
  [
    'mcp-hub 4.2',
    '`node bench/.peers/node_modules/mcp-hub/dist/cli.js --port <port> --config hub.json` with `{"mcpServers": {"everything": {"command": "node", "args": […]}}}`, XDG_* dirs pointed into the run’s temp dir; its `/mcp` is legacy SSE (`GET /mcp`, `POST /messages`); tool `everything__echo`; readiness from `GET /api/health`',
  ],
];

export function renderDoc({ info, results, opts, scenarios, partialNote }) {
  const L = [];
  L.push('# Benchmarks', '');
  L.push(
    `Written by \`npm run bench\`${opts.quick ? ' **--quick** (tiny samples: a smoke test, not figures to quote)' : ''}${opts.only ? ` --only ${opts.only.join(',')}` : ''} on ${info.date.slice(0, 10)}; the run took ${num(info.durationS, 0)} s.` +
      (partialNote ? ` **${partialNote}**` : ''),
    '',
  );
  L.push('| machine | |', '|---|---|');
  L.push(`| CPU | ${info.cpu}, ${info.cores} cores |`);
  L.push(`| memory | ${num(info.memGiB, 1)} GiB |`);
  L.push(`| OS | ${info.os} |`);
  L.push(`| Node | ${info.node} |`);
  L.push(
    `| load average (1, 5, 15 min) | at start ${info.load.map((x) => x.toFixed(2)).join(', ')}; at end ${(info.loadEnd ?? []).map((x) => x.toFixed(2)).join(', ')} |`,
  );
  L.push(`| mcproxy commit | ${info.commit} |`);
  for (const [k, v] of Object.entries(info.versions)) L.push(`| ${k} | ${v} |`);
  L.push('');
  L.push('## How to read this', '');
  L.push(
    '- **Compare only within this file.** Run-to-run noise on this machine is about ±40 %: a figure from another run, another day or another machine is not comparable. Every row has its reference measured in the same run, usually interleaved with it.',
    '- Every figure is the **median over repeated runs** (repetitions), followed by its spread as **(min–max)** over those repetitions (p10–p90 when there are ten or more). Latency percentiles (p50/p90/p99) are taken within one repetition; the table then gives the median and the range of each over the repetitions.',
    '- *The limit* is an SDK client talking to server-everything over stdio, no gateway. *Ratio* = the row’s p50 / the limit’s p50 in the same repetition; *added* = the difference in ms.',
    '- All servers listen on 127.0.0.1 on ports picked by the OS; clients are `@modelcontextprotocol/sdk` clients in the bench process, so client-side cost (JSON, SSE parsing, fetch) is in every figure, the limit’s included.',
    '- The load average in the machine table tells whether other work shared the CPU during the run: with a load well above the core count every path slows down (the loopback round trips most), so read the ratios, not the absolute figures.',
    '- “not available” means the thing measured does not exist yet (mcproxy not built, flag not accepted); the rest of the table still ran.',
    '- Re-run one table with `npm run bench -- --only <name>` (names: ' +
      scenarios.map((s) => `\`${s.name}\``).join(', ') +
      '); `--quick` is a smoke test with tiny samples.',
    '',
  );
  L.push('### How each gateway is started', '', '| process | command |', '|---|---|');
  for (const [a, b] of GATEWAY_COMMANDS) L.push(`| ${a} | ${b} |`);
  L.push('');
  const targets = [];
  for (const s of scenarios) {
    L.push(`## ${TITLES[s.name] ?? s.name}`, '');
    L.push(
      `Command: \`npm run bench -- --only ${s.name}\` (or \`node bench/run.mjs --only ${s.name}\` after \`npm run build\`).`,
      '',
    );
    const r = results[s.name];
    if (!r) {
      L.push(opts.only && !opts.only.includes(s.name) ? '_Not selected in this run._' : '_Not run (time limit)._', '');
      continue;
    }
    if (!r.ok) {
      L.push(`_Failed: ${r.error}_`, '');
      continue;
    }
    L.push(s.render(r.data), '');
    L.push(`_Section took ${num(r.seconds, 0)} s._`, '');
    if (s.targets) targets.push(...s.targets(r.data));
  }
  L.push('## Notes on the peer gateways', '');
  L.push(
    '- **supergateway, stdio→SSE** runs one server process for all sessions and sends every line the server writes to *every* open SSE session, without remapping JSON-RPC ids. With more than one session, clients get each other’s answers: the ⚠ “wrong answers” in table 2 are real cross-talk, not a bench error (every answer is checked against its own message).',
    '- **supergateway, stdio→Streamable HTTP** is stateless by default and spawns a new server process for every HTTP request (initialize included), hence hundreds of ms per call; `--stateful` spawns one server process per session (64 sessions = 64 copies of server-everything). supergateway has no host option and binds every interface.',
    '- **mcp-proxy** keeps one upstream client for all sessions and serves `/mcp` and `/sse` on one port; its resumability event store is on by default.',
    '- **mcp-hub**’s `/mcp` endpoint is the legacy HTTP+SSE transport (`GET /mcp`, `POST /messages`), not Streamable HTTP. At start it tries to fetch a marketplace registry from the internet (fails offline after ~0.1 s and carries on), and writes state and logs under the XDG directories (pointed at the run’s temp dir here). Its `--watch` reload is what table 5 measures.',
    '',
  );
  L.push('## Targets (issues 4 and 15)', '');
  if (targets.length) {
    L.push('| target | measured in this run | status |', '|---|---|---|');
    for (const t of targets) L.push(`| ${t.target} | ${t.measured} | ${t.status} |`);
  } else L.push('_No target could be evaluated in this run._');
  L.push('');
  return L.join('\n');
}
