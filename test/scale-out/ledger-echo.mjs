#!/usr/bin/env node
// An MCP server over stdio whose one tool, `echo`, answers "<replica> <message>" and first appends the message
// to LEDGER_FILE: the scale-out test's record of what was executed, and by which replica (LEDGER_REPLICA).
import { appendFileSync } from 'node:fs';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const LEDGER = process.env.LEDGER_FILE;
const REPLICA = process.env.LEDGER_REPLICA || 'unknown';

const mcp = new McpServer({ name: 'ledger', version: '1.0.0' });
mcp.registerTool(
  'echo',
  { description: 'Records and returns the message', inputSchema: { message: z.string() } },
  ({ message }) => {
    // One short line per write with O_APPEND: lines of concurrent servers never interleave.
    if (LEDGER) appendFileSync(LEDGER, `${REPLICA} ${message}\n`);
    return { content: [{ type: 'text', text: `${REPLICA} ${message}` }] };
  },
);
await mcp.connect(new StdioServerTransport());
