import { loadConfig } from '../../config/load.js';
import { errorMessage } from '../../errors.js';
import { approvePin, formatPins, readPins, writePins } from '../../pinning/pin-store.js';
import { changedFields } from '../../pinning/tool-digest.js';
import type { CommandIo } from './check.js';

export interface ApproveOptions {
  /** The pins file itself, instead of the one the config names. */
  pinsFile?: string;
}

/**
 * `mcproxy approve [SERVER/TOOL]`: approves the changed definition of a pinned tool in the state file; a
 * running gateway takes the approval over within a second. Without a tool, lists the changed tools.
 * Returns the exit code: 1 when there is nothing to approve, 2 for bad usage.
 *
 * @example mcproxy approve github/create_issue --config /etc/mcproxy/mcp-servers.json
 */
export async function runApproveCommand(
  target: string | undefined,
  configPath: string,
  io: CommandIo,
  options: ApproveOptions = {},
): Promise<number> {
  if (target !== undefined && !/^[^/]+\/.+$/.test(target)) {
    io.err(`mcproxy approve: expected SERVER/TOOL (the tool's own name on its server), got "${target}"\n`);
    return 2;
  }
  let path = options.pinsFile;
  if (path === undefined) {
    try {
      const config = await loadConfig(configPath);
      path = config.pinning?.stateFile;
      if (config.pinning?.mode === 'off' || path === undefined) {
        io.err(`mcproxy approve: tool pinning is off in ${configPath}\n`);
        return 1;
      }
    } catch (error) {
      io.err(`${errorMessage(error)}\n(or name the pins file itself with --pins FILE)\n`);
      return 1;
    }
  }
  try {
    const pins = await readPins(path);
    if (target === undefined) {
      const changed = [...pins].filter(([, record]) => record.changed);
      if (changed.length === 0) io.out(`No changed tools in ${path}\n`);
      for (const [key, record] of changed) {
        const fields = changedFields(record.definition, record.changed!.definition).join(', ');
        io.out(`${key}: ${fields} changed (seen ${record.changed!.seenAt})\n`);
      }
      return 0;
    }
    approvePin(pins, target);
    await writePins(path, formatPins(pins));
    io.out(`Approved ${target} in ${path}; a running gateway lists it again within a second or two\n`);
    return 0;
  } catch (error) {
    io.err(`mcproxy approve: ${errorMessage(error)}\n`);
    return 1;
  }
}
