/** How many of a server's last stderr lines are kept to explain a failed start. */
const STDERR_TAIL_LINES = 40;
const MAX_QUOTED_CHARS = 300;

/** Lines that never explain a failure: Node's version footer, stack frames, carets, npm's log-file pointer. */
const NOISE = [
  /^Node\.js v\d+/,
  /^\s+at\s/,
  /^\s*\^+\s*$/,
  /^\s*[{}[\]]*\s*$/,
  /^npm (error|ERR!) A complete log of this run/,
  /^npm (error|ERR!) (404 )?(Note that you can also install from a|tarball, folder, http url, or git url)/,
  /^npm (error|ERR!)( 404)?\s*$/,
  /^npm (warn|WARN) exec The following package/,
];
/** An exception's own line (`Error: …`, `ModuleNotFoundError: …`), the clearest statement of the cause. */
const EXCEPTION = /(^|\s)([A-Z]\w*)?(Error|Exception)( \[\w+\])?: \S/;
/** Wording that usually carries the cause. */
const CAUSE =
  /\b(not found|could not|cannot|can't|unable|denied|missing|invalid|refused|no such|required|failed|E[A-Z]{3,})\b/i;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/**
 * The line of a server's last stderr output that best says why it failed, or undefined when it said nothing.
 * Node's uncaught-exception report ends with stack frames and a `Node.js v20.x` footer, and npm's with a
 * pointer to its log file; the line worth quoting is the exception (or the last line naming a cause) above them.
 *
 * @example telltaleLine(['file.js:1', '^', '', 'Error: boom', '    at x (file.js:1:7)', '', 'Node.js v20.20.2'])
 * // 'Error: boom'
 */
export function telltaleLine(lines: readonly string[]): string | undefined {
  const candidates = lines
    .map((line) => line.replace(ANSI, '').trimEnd())
    .filter((line) => line.trim() !== '' && !NOISE.some((pattern) => pattern.test(line)));
  const pick =
    findLast(candidates, (line) => EXCEPTION.test(line)) ??
    findLast(candidates, (line) => CAUSE.test(stripNpmPrefix(line))) ??
    candidates.at(-1);
  if (pick === undefined) return undefined;
  const text = pick.trim().replace(/\s+/g, ' ');
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
}

/** Keeps the last `max` lines it is given. */
export class LineTail {
  private readonly lines: string[] = [];

  constructor(private readonly max = STDERR_TAIL_LINES) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }

  get all(): readonly string[] {
    return this.lines;
  }
}

/** `npm error 404 …` says "error" on every line; judge the text after the prefix. */
function stripNpmPrefix(line: string): string {
  return line.replace(/^npm (error|ERR!|warn|WARN)( code)?\s*/, '');
}

function findLast(lines: readonly string[], test: (line: string) => boolean): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) if (test(lines[i]!)) return lines[i];
  return undefined;
}
