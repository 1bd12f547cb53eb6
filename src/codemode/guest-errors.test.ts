import { describe, expect, it } from 'vitest';

import { classifyGuestError, classifyWorkerError } from './guest-errors.js';

const context = { wrapped: { prefixLength: 23 }, lineCount: 3, memoryMb: 32, nearMemoryCap: false };

describe('classifyGuestError', () => {
  it('keeps the name, message, position and tool of an ordinary error', () => {
    const description = { name: 'ToolError', message: 'nope', stack: '    at f (code.js:2:5)', server: 's', tool: 't' };
    expect(classifyGuestError(description, context)).toEqual({
      type: 'Error',
      name: 'ToolError',
      message: 'nope',
      line: 2,
      column: 5,
      server: 's',
      tool: 't',
    });
  });

  it('recognises QuickJS running out of memory or stack', () => {
    expect(classifyGuestError({ name: 'InternalError', message: 'out of memory' }, context).type).toBe('MemoryLimit');
    expect(classifyGuestError({ name: 'Error', message: 'Uncaught null' }, context).type).toBe('Error');
    expect(
      classifyGuestError({ name: 'Error', message: 'Uncaught null' }, { ...context, nearMemoryCap: true }).type,
    ).toBe('MemoryLimit');
    expect(classifyGuestError({ name: 'InternalError', message: 'stack overflow' }, context).type).toBe(
      'LimitExceeded',
    );
  });
});

describe('classifyWorkerError', () => {
  it('tells a host stack overflow and an exhausted memory from other failures', () => {
    expect(classifyWorkerError(new RangeError('Maximum call stack size exceeded'), context).type).toBe('LimitExceeded');
    expect(classifyWorkerError(new Error('unreachable'), { ...context, nearMemoryCap: true }).type).toBe('MemoryLimit');
    expect(classifyWorkerError(new Error('unreachable'), context)).toEqual({
      type: 'Internal',
      message: 'sandbox failure: Error: unreachable',
    });
  });
});
