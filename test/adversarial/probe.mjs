// Loaded into the gateway process under test (`node --expose-gc --import probe.mjs dist/main.js ...`): it measures
// the event-loop delay and memory of that process and reports them to the suite over the IPC channel. It adds no
// route and changes nothing the gateway does.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 2 });
histogram.enable();
let cpuAtReset = process.cpuUsage();

function collectGarbage() {
  // Several passes: weak references and finalizers free more on the second.
  for (let i = 0; i < 3; i++) globalThis.gc?.();
}

const handlers = {
  reset() {
    histogram.reset();
    cpuAtReset = process.cpuUsage();
    return {};
  },
  stats() {
    return {
      delayP99Ms: histogram.percentile(99) / 1e6,
      delayMaxMs: histogram.max / 1e6,
      samples: histogram.count,
      // CPU time since the reset: tells work of the gateway's own from time the machine gave to others.
      cpuMs: (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpuAtReset)),
      rssBytes: process.memoryUsage.rss(),
    };
  },
  memory() {
    collectGarbage();
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    return { rssBytes: rss, heapUsedBytes: heapUsed, heapTotalBytes: heapTotal, externalBytes: external };
  },
};

process.on('message', (message) => {
  const handler = handlers[message?.type];
  if (handler) process.send?.({ id: message.id, ...handler() });
});
// The channel must not keep the gateway alive once it is told to stop.
process.channel?.unref();
