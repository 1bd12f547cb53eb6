import { describe, expect, it } from 'vitest';

import { LineTail, telltaleLine } from './stderr-tail.js';

describe('telltaleLine', () => {
  it("quotes Node's uncaught exception, not its version footer or stack frames", () => {
    const lines = [
      '[eval]:1',
      "throw new Error('boom: missing API key')",
      '^',
      '',
      'Error: boom: missing API key',
      '    at [eval]:1:7',
      '    at runScriptInThisContext (node:internal/vm:209:10)',
      '',
      'Node.js v20.20.2',
    ];
    expect(telltaleLine(lines)).toBe('Error: boom: missing API key');
  });

  it('quotes the line of an npm 404 that names the package, not the log-file pointer', () => {
    const lines = [
      'npm error code E404',
      'npm error 404 Not Found - GET https://registry.npmjs.org/@x%2fnope',
      'npm error 404',
      "npm error 404  The requested resource '@x/nope@*' could not be found or you do not have permission to access it.",
      'npm error 404',
      'npm error 404 Note that you can also install from a',
      'npm error 404 tarball, folder, http url, or git url.',
      'npm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log',
    ];
    expect(telltaleLine(lines)).toMatch(/The requested resource '@x\/nope@\*' could not be found/);
  });

  it('prefers an exception with a code, and a Python traceback’s last line', () => {
    expect(
      telltaleLine(["Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'zod'", '    at x', 'Node.js v22.1.0']),
    ).toBe("Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'zod'");
    const python = [
      'Traceback (most recent call last):',
      '  File "s.py", line 1',
      "ModuleNotFoundError: No module named 'mcp'",
    ];
    expect(telltaleLine(python)).toBe("ModuleNotFoundError: No module named 'mcp'");
  });

  it('falls back to the last line that says something, skips npx’s install notice, strips colours', () => {
    expect(telltaleLine(['Starting…', '\u001b[31mlistening failed badly\u001b[0m', ''])).toBe('listening failed badly');
    expect(telltaleLine(['npm warn exec The following package was not found and will be installed: x@1', 'bye'])).toBe(
      'bye',
    );
    expect(telltaleLine(['', 'Node.js v20.20.2'])).toBeUndefined();
    expect(telltaleLine([])).toBeUndefined();
  });

  it('cuts a huge line', () => {
    expect(telltaleLine([`Error: ${'x'.repeat(10_000)}`])!.length).toBeLessThanOrEqual(301);
  });
});

describe('LineTail', () => {
  it('keeps only the last lines', () => {
    const tail = new LineTail(3);
    for (let i = 0; i < 10; i++) tail.push(String(i));
    expect(tail.all).toEqual(['7', '8', '9']);
  });
});
