import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * What each MCP client needs in its own config to reach mcproxy, and how it sends a bearer token. Pure: the
 * command in commands/client-config.ts prints or merges the result.
 */
export const CLIENT_IDS = [
  'claude-desktop',
  'claude-code',
  'cursor',
  'vscode',
  'windsurf',
  'cline',
  'codex',
  'gemini',
] as const;
export type ClientId = (typeof CLIENT_IDS)[number];

interface ClientTarget {
  /** The server's name in the client. */
  name: string;
  /** The gateway's endpoint, for HTTP; absent with `stdio`. */
  url?: string;
  /** The command line that starts `mcproxy --stdio`, for clients that spawn their servers. */
  stdio?: { command: string; args: string[] };
  /** Environment variable holding the bearer token, when the gateway needs one. */
  tokenEnv?: string;
  /** Its value, for the clients that can't read the environment themselves (written into their file). */
  tokenValue?: string;
}

export interface ClientSnippet {
  client: ClientId;
  title: string;
  /** `json`: an object merged into the client's file; `toml`: a table appended; `shell`: a command to run. */
  format: 'json' | 'toml' | 'shell';
  /** What to paste (or run), ending in a newline. */
  text: string;
  /** For `json`: the entry, the key it sits under, and extra top-level lists merged by `id` (VS Code inputs). */
  entry?: { key: string; value: Record<string, unknown>; extra?: Record<string, Record<string, unknown>[]> };
  /** The client's config file, where `--write` merges the snippet; absent when the client keeps its own. */
  file?: string;
  /** Where it goes and how the token travels, for the person reading it. */
  notes: string[];
}

export interface ClientEnvironment {
  platform?: NodeJS.Platform;
  home?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const TOKEN_PLACEHOLDER = '<your mcproxy token>';

export function isClientId(value: string): value is ClientId {
  return (CLIENT_IDS as readonly string[]).includes(value);
}

/**
 * The snippet of one client.
 *
 * @example clientSnippet('cursor', { name: 'mcproxy', url: 'http://127.0.0.1:12010/mcp', tokenEnv: 'MCPROXY_TOKEN' })
 * // { format: 'json', text: '{ "mcpServers": { "mcproxy": { "url": …, "headers": { "Authorization":
 * //   "Bearer ${env:MCPROXY_TOKEN}" } } } }', … }
 */
export function clientSnippet(client: ClientId, target: ClientTarget, where: ClientEnvironment = {}): ClientSnippet {
  const home = where.home ?? homedir();
  const platform = where.platform ?? process.platform;
  const env = where.env ?? process.env;
  const cwd = where.cwd ?? process.cwd();
  const token = target.tokenEnv;
  const bearer = (reference: string) => (token ? { headers: { Authorization: `Bearer ${reference}` } } : {});
  const literal = target.tokenValue ?? TOKEN_PLACEHOLDER;
  const literalNote = token
    ? [`This client reads no environment variables: the token is written into its file. Keep the file private.`]
    : [];
  const stdio = target.stdio;
  const json = (
    title: string,
    key: string,
    value: Record<string, unknown>,
    file: string | undefined,
    notes: string[],
    extra?: Record<string, Record<string, unknown>[]>,
  ): ClientSnippet => {
    const document = { ...extra, [key]: { [target.name]: value } };
    return {
      client,
      title,
      format: 'json',
      text: `${JSON.stringify(document, null, 2)}\n`,
      entry: { key, value, ...(extra ? { extra } : {}) },
      ...(file ? { file } : {}),
      notes: stdio && token ? [...notes, 'Over stdio the client is local and needs no token.'] : notes,
    };
  };
  const url = target.url ?? '';

  switch (client) {
    case 'claude-desktop': {
      const file = appData(platform, home, env, 'Claude', 'claude_desktop_config.json');
      if (stdio) return json('Claude Desktop', 'mcpServers', { ...stdio }, file, [`Add it to ${file}, restart.`]);
      // Claude Desktop's file only starts local processes; mcp-remote bridges to the HTTP endpoint.
      const allowHttp = url.startsWith('http://') && !isLoopbackUrl(url) ? ['--allow-http'] : [];
      const header = token ? ['--header', 'Authorization:${MCPROXY_AUTH}'] : [];
      return json(
        'Claude Desktop',
        'mcpServers',
        {
          command: 'npx',
          args: ['-y', 'mcp-remote', url, ...allowHttp, ...header],
          ...(token ? { env: { MCPROXY_AUTH: `Bearer ${literal}` } } : {}),
        },
        file,
        [
          `Add it to ${file}, then restart Claude Desktop; it reaches the gateway through mcp-remote.`,
          ...(token
            ? ['mcp-remote sends the Authorization header built from MCPROXY_AUTH in "env".', ...literalNote]
            : []),
        ],
      );
    }
    case 'claude-code': {
      const command = stdio
        ? `claude mcp add ${shellQuote(target.name)} -- ${[stdio.command, ...stdio.args].map(shellQuote).join(' ')}`
        : `claude mcp add --transport http ${shellQuote(target.name)} ${shellQuote(url)}` +
          (token ? ` --header "Authorization: Bearer $${token}"` : '');
      return {
        client,
        title: 'Claude Code',
        format: 'shell',
        text: `${command}\n`,
        notes: [
          'Run it in your project (add --scope user for every project); check with "claude mcp list".',
          ...(token ? [`The shell puts the value of ${token} into the header; Claude Code stores it.`] : []),
        ],
      };
    }
    case 'cursor': {
      const file = join(home, '.cursor', 'mcp.json');
      const value = stdio ? { ...stdio } : { url, ...bearer(`\${env:${token}}`) };
      return json('Cursor', 'mcpServers', value, file, [
        `Add it to ${file} (every project) or .cursor/mcp.json (one project).`,
        ...(token && !stdio ? [`Cursor fills in \${env:${token}} from its environment.`] : []),
      ]);
    }
    case 'vscode': {
      const file = join(cwd, '.vscode', 'mcp.json');
      if (stdio) return json('VS Code', 'servers', { type: 'stdio', ...stdio }, file, [`Add it to ${file}.`]);
      const inputs = token
        ? { inputs: [{ type: 'promptString', id: 'mcproxy-token', description: 'mcproxy token', password: true }] }
        : undefined;
      return json(
        'VS Code',
        'servers',
        { type: 'http', url, ...bearer('${input:mcproxy-token}') },
        file,
        [
          `Add it to ${file} (the workspace), or run "MCP: Open User Configuration".`,
          ...(token ? ['VS Code asks for the token once (the "mcproxy-token" input) and keeps it secret.'] : []),
        ],
        inputs,
      );
    }
    case 'windsurf': {
      const file = join(home, '.codeium', 'windsurf', 'mcp_config.json');
      const value = stdio ? { ...stdio } : { serverUrl: url, ...bearer(`\${env:${token}}`) };
      return json('Windsurf', 'mcpServers', value, file, [
        `Add it to ${file}, then refresh the MCP servers in Cascade.`,
        ...(token && !stdio ? [`Windsurf fills in \${env:${token}} from its environment.`] : []),
      ]);
    }
    case 'cline': {
      const file = vscodeGlobalStorage(platform, home, env, 'saoudrizwan.claude-dev', 'cline_mcp_settings.json');
      const value = stdio
        ? { ...stdio, disabled: false }
        : { type: 'streamableHttp', url, ...bearer(literal), disabled: false };
      return json('Cline', 'mcpServers', value, file, [
        `Add it under "Configure MCP Servers" in Cline (${file}).`,
        ...(stdio ? [] : literalNote),
      ]);
    }
    case 'codex': {
      const file = join(env['CODEX_HOME'] || join(home, '.codex'), 'config.toml');
      const lines = [`[mcp_servers.${tomlKey(target.name)}]`];
      if (stdio) {
        lines.push(`command = ${JSON.stringify(stdio.command)}`, `args = ${JSON.stringify(stdio.args)}`);
      } else {
        lines.push(`url = ${JSON.stringify(url)}`);
        if (token) lines.push(`bearer_token_env_var = ${JSON.stringify(token)}`);
      }
      return {
        client,
        title: 'Codex CLI',
        format: 'toml',
        text: `${lines.join('\n')}\n`,
        file,
        notes: [
          `Add it to ${file}; check with "codex mcp list".`,
          ...(token && !stdio ? [`Codex reads the token from ${token} and sends it as a bearer token.`] : []),
        ],
      };
    }
    case 'gemini': {
      const file = join(home, '.gemini', 'settings.json');
      const value = stdio ? { ...stdio } : { httpUrl: url, ...bearer(`\${${token}}`) };
      return json('Gemini CLI', 'mcpServers', value, file, [
        `Add it to ${file} (or .gemini/settings.json in a project); check with /mcp.`,
        ...(token && !stdio ? [`Gemini CLI fills in \${${token}} from its environment.`] : []),
      ]);
    }
  }
}

/** A client name as written in the file: an object key with a string value. */
function tomlKey(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name);
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function isLoopbackUrl(url: string): boolean {
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** A desktop app's folder: Application Support on macOS, %APPDATA% on Windows, ~/.config elsewhere. */
function appData(platform: NodeJS.Platform, home: string, env: NodeJS.ProcessEnv, ...parts: string[]): string {
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', ...parts);
  if (platform === 'win32') return join(env['APPDATA'] || join(home, 'AppData', 'Roaming'), ...parts);
  return join(env['XDG_CONFIG_HOME'] || join(home, '.config'), ...parts);
}

function vscodeGlobalStorage(
  platform: NodeJS.Platform,
  home: string,
  env: NodeJS.ProcessEnv,
  extension: string,
  file: string,
): string {
  return appData(platform, home, env, 'Code', 'User', 'globalStorage', extension, 'settings', file);
}
