import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';

import type { CatalogTool } from '../catalog/types.js';
import {
  generateCatalogDeclarations,
  schemaToTypeScript,
  toIdentifier,
  toolIdentifiers,
  toolSignature,
} from './typegen.js';

describe('schemaToTypeScript', () => {
  it.each([
    [{ type: 'string' }, 'string'],
    [{ type: 'integer' }, 'number'],
    [{ type: 'boolean' }, 'boolean'],
    [{ type: 'null' }, 'null'],
    [{ type: ['string', 'null'] }, 'string | null'],
    [{ type: 'string', nullable: true }, 'string | null'],
    [{ enum: ['a', 'b', 1, null] }, '"a" | "b" | 1 | null'],
    [{ const: 'fixed' }, '"fixed"'],
    [{ const: { a: 1 } }, 'unknown'],
    [{ anyOf: [{ type: 'string' }, { type: 'number' }] }, 'string | number'],
    [{ oneOf: [{ type: 'string' }, {}] }, 'unknown'],
    [
      { allOf: [{ anyOf: [{ type: 'string' }, { type: 'number' }] }, { type: 'string' }] },
      '(string | number) & string',
    ],
    [{ type: 'array', items: { type: 'string' } }, 'string[]'],
    [{ type: 'array', items: { enum: ['x', 'y'] } }, 'Array<"x" | "y">'],
    [{ type: 'array' }, 'unknown[]'],
    [{ type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] }, '[string, number]'],
    [{ type: 'object' }, 'Record<string, unknown>'],
    [{ type: 'object', additionalProperties: { type: 'number' } }, 'Record<string, number>'],
    [{ type: 'object', additionalProperties: false }, 'Record<string, never>'],
    [{ type: 'mystery' }, 'unknown'],
    [true, 'unknown'],
    [false, 'never'],
    ['nonsense', 'unknown'],
    [{}, 'unknown'],
  ])('%j → %s', (schema, expected) => {
    expect(schemaToTypeScript(schema)).toBe(expected);
  });

  it('writes objects with required and optional properties, nested, with JSDoc', () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Who */ to greet' },
        'max-count': { type: 'integer', default: 3 },
        nested: { type: 'object', properties: { deep: { type: 'boolean' } }, required: ['deep'] },
      },
      required: ['name'],
      additionalProperties: true,
    };
    expect(schemaToTypeScript(schema)).toBe(
      [
        '{',
        '  /** Who *\\/ to greet */',
        '  name: string;',
        '  /** @default 3 */',
        '  "max-count"?: number;',
        '  nested?: {',
        '    deep: boolean;',
        '  };',
        '  [key: string]: unknown;',
        '}',
      ].join('\n'),
    );
  });

  it('inlines local $refs and ends cycles as unknown', () => {
    const schema = {
      type: 'object',
      properties: { node: { $ref: '#/$defs/Node' } },
      $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' }, v: { type: 'number' } } } },
    };
    const text = schemaToTypeScript(schema);
    expect(text).toContain('v?: number;');
    expect(text).toContain('next?: unknown');
    expect(schemaToTypeScript({ $ref: 'https://example.com/schema' })).toBe('unknown');
  });
});

describe('identifiers', () => {
  it('makes names valid identifiers and keeps them unique', () => {
    expect(toIdentifier('get-sum')).toBe('get_sum');
    expect(toIdentifier('repos.list')).toBe('repos_list');
    expect(toIdentifier('2fa')).toBe('_2fa');
    expect([...toolIdentifiers(['a_b', 'a-b', 'a.b'])]).toEqual([
      ['a_b', 'a-b'],
      ['a_b_2', 'a.b'],
      ['a_b_3', 'a_b'],
    ]);
  });
});

describe('toolSignature', () => {
  it('makes args optional when nothing is required and types the output', () => {
    const tool: Tool = {
      name: 'get-time',
      description: 'The time.\nIn UTC.',
      inputSchema: { type: 'object', properties: { zone: { type: 'string' } } },
      outputSchema: { type: 'object', properties: { iso: { type: 'string' } }, required: ['iso'] },
    };
    expect(toolSignature(tool)).toBe(
      [
        '/**',
        ' * The time.',
        ' * In UTC.',
        ' * @tool get-time',
        ' */',
        'get_time(args?: {',
        '  zone?: string;',
        '}): Promise<{',
        '  iso: string;',
        '}>;',
      ].join('\n'),
    );
  });
});

describe('generateCatalogDeclarations', () => {
  it('declares one interface per server, the Servers map and the api global', () => {
    const tool = (server: string, name: string): CatalogTool => ({
      publicName: `${server}__${name}`,
      server,
      originalName: name,
      definition: { name: `${server}__${name}`, inputSchema: { type: 'object' } },
    });
    const text = generateCatalogDeclarations([tool('my-server', 'do.it'), tool('my_server', 'x'), tool('9lives', 'y')]);
    expect(text).toContain(
      'export interface MyServerServer {\n  /** @tool do.it */\n  do_it(args?: Record<string, unknown>): Promise<unknown>;\n}',
    );
    expect(text).toContain('export interface MyServerServer2 {');
    expect(text).toContain('export interface S9livesServer {');
    expect(text).toContain('  "my-server": MyServerServer;');
    expect(text).toContain('declare global {\n  const api: Api;');
  });
});
