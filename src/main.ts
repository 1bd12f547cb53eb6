#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=20 --v8-pool-size=1
// The flags (issue 15): V8 lets its young generation grow to 2 × 16 MB under load and keeps it, and lets the old
// generation fill with garbage to several times what is live before collecting it. A relay's objects die young: with
// 2 MB semi-spaces and old-generation growth held to 20 % the process stays 30–60 MB smaller after load, and one V8
// worker thread is enough for a process that is mostly waiting. `--optimize-for-size` gave the same memory but cost
// about 10 µs of CPU per stdio call and made instruction counts unstable (BENCHMARKS.md). `node dist/main.js` skips
// the shebang: the container and the unit pass the flags too.
import { helpText, parseCliArgs, UsageError } from './cli/args.js';
import { findConfigPath } from './cli/config-path.js';
import { loadWorkingDirEnv } from './cli/working-env.js';
import { errorMessage } from './errors.js';
import { GATEWAY_VERSION } from './version.js';

// Each command's modules load when it runs (issue 15): a serving gateway never holds those of init, login, stubs, …
const io = {
  out: (text: string) => process.stdout.write(text),
  err: (text: string) => process.stderr.write(text),
};

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`mcproxy: ${error.message}\n`);
    return 2;
  }
  switch (args.command) {
    case 'help':
      io.out(helpText(args.topic));
      return 0;
    case 'version':
      io.out(`mcproxy ${GATEWAY_VERSION}\n`);
      return 0;
    case 'schema':
      return (await import('./cli/commands/schema.js')).runSchemaCommand(io.out);
    case 'init':
      return (await import('./cli/commands/init.js')).runInitCommand(args.out, args.port, io);
    case 'client-config':
      return (await import('./cli/commands/client-config.js')).runClientConfigCommand(
        {
          client: args.client ?? '',
          host: args.host,
          port: args.port,
          stdio: args.stdio,
          write: args.write,
          ...pick(args, ['url', 'config', 'tokenEnv', 'name', 'out']),
        },
        io,
      );
    default:
      break;
  }
  let configPath: string;
  try {
    configPath = findConfigPath(args.config);
  } catch (error) {
    io.err(`mcproxy: ${errorMessage(error)}\n`);
    return 1;
  }
  loadWorkingDirEnv(configPath);
  switch (args.command) {
    case 'login':
      return (await import('./cli/commands/login.js')).runLoginCommand(configPath, args.login!, io);
    case 'approve':
      return (await import('./cli/commands/approve.js')).runApproveCommand(
        args.target,
        configPath,
        io,
        args.pins === undefined ? {} : { pinsFile: args.pins },
      );
    case 'check': {
      const [{ runCheckCommand }, { startServerOnce }] = await Promise.all([
        import('./cli/commands/check.js'),
        import('./upstream/probe.js'),
      ]);
      return runCheckCommand(configPath, { start: args.start }, io, { startServer: startServerOnce });
    }
    case 'stubs':
      return (await import('./cli/commands/stubs.js')).runStubsCommand(configPath, args.out, io);
    case 'serve':
      return (await import('./cli/serve.js')).runServe(args, configPath);
  }
}

function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.filter((key) => object[key] !== undefined).map((key) => [key, object[key]])) as Pick<
    T,
    K
  >;
}

let finished = false;
// Node exits when nothing is left to wait for, even with main() still pending: a bug, never a success.
process.once('beforeExit', () => {
  if (finished) return;
  io.err('mcproxy: internal error: the command stopped before it finished\n');
  process.exitCode = 1;
});

main(process.argv.slice(2)).then(
  (code) => {
    finished = true;
    process.exitCode = code;
  },
  (error: unknown) => {
    finished = true;
    io.err(`mcproxy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
