#!/usr/bin/env node
import { HELP, parseCliArgs, UsageError } from './cli/args.js';
import { runCheckCommand } from './cli/commands/check.js';
import { runInitCommand } from './cli/commands/init.js';
import { runLoginCommand } from './cli/commands/login.js';
import { runSchemaCommand } from './cli/commands/schema.js';
import { runStubsCommand } from './cli/commands/stubs.js';
import { runServe } from './cli/serve.js';
import { GATEWAY_VERSION } from './relay/client-session.js';
import { startServerOnce } from './upstream/probe.js';

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
      io.out(HELP);
      return 0;
    case 'version':
      io.out(`mcproxy ${GATEWAY_VERSION}\n`);
      return 0;
    case 'schema':
      return runSchemaCommand(io.out);
    case 'check':
      return runCheckCommand(args.config, { start: args.start }, io, { startServer: startServerOnce });
    case 'stubs':
      return runStubsCommand(args.config, args.out, io);
    case 'init':
      return runInitCommand(args.out, io);
    case 'login':
      return runLoginCommand(args.config, args.login!, io);
    case 'serve':
      return runServe(args);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    io.err(`mcproxy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
