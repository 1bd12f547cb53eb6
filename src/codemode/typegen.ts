import type { Tool } from '@modelcontextprotocol/sdk/types.js';

import type { CatalogTool } from '../catalog/types.js';

/*
 * JSON Schema (as MCP tools publish it) to TypeScript declaration text. Pure. Whatever is not understood
 * becomes `unknown`, so the output always compiles; local `$ref`s are inlined with a depth guard (a cycle
 * ends as `unknown`).
 */

type Schema = Record<string, unknown>;

const MAX_DEPTH = 12;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

interface Walk {
  root: unknown;
  depth: number;
  indent: string;
}

/**
 * The TypeScript type of a JSON Schema.
 *
 * @example
 * schemaToTypeScript({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] });
 * // '{\n  a: string;\n}'
 */
export function schemaToTypeScript(schema: unknown, indent = ''): string {
  return typeOf(schema, { root: schema, depth: 0, indent });
}

function typeOf(schema: unknown, walk: Walk): string {
  if (schema === true || schema === undefined) return 'unknown';
  if (schema === false) return 'never';
  if (!isSchema(schema) || walk.depth > MAX_DEPTH) return 'unknown';
  const next: Walk = { ...walk, depth: walk.depth + 1 };
  const type = withNull(baseType(schema, next), schema.nullable === true);
  return type;
}

function baseType(schema: Schema, walk: Walk): string {
  if (typeof schema.$ref === 'string') return typeOf(resolveRef(walk.root, schema.$ref), walk);
  if ('const' in schema) return literal(schema.const);
  if (Array.isArray(schema.enum)) return union(schema.enum.map(literal));
  const variants = (Array.isArray(schema.anyOf) ? schema.anyOf : undefined) ?? schema.oneOf;
  if (Array.isArray(variants)) return union(variants.map((v) => typeOf(v, walk)));
  if (Array.isArray(schema.allOf)) {
    return schema.allOf.length === 0 ? 'unknown' : schema.allOf.map((v) => parens(typeOf(v, walk))).join(' & ');
  }
  if (Array.isArray(schema.type)) {
    return union(schema.type.map((t) => (typeof t === 'string' ? typeOf({ ...schema, type: t }, walk) : 'unknown')));
  }
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return arrayType(schema, walk);
    case 'object':
      return objectType(schema, walk);
    case undefined:
      if (isSchema(schema.properties) || 'additionalProperties' in schema) return objectType(schema, walk);
      if ('items' in schema || 'prefixItems' in schema) return arrayType(schema, walk);
      return 'unknown';
    default:
      return 'unknown';
  }
}

function arrayType(schema: Schema, walk: Walk): string {
  const tuple = Array.isArray(schema.prefixItems)
    ? schema.prefixItems
    : Array.isArray(schema.items)
      ? schema.items
      : null;
  if (tuple) return `[${tuple.map((item) => typeOf(item, walk)).join(', ')}]`;
  const item = typeOf(schema.items, walk);
  return /^[\w$.]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
}

function objectType(schema: Schema, walk: Walk): string {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : []);
  const extra = schema.additionalProperties;
  const keys = Object.keys(properties);
  if (keys.length === 0) {
    if (extra === false) return 'Record<string, never>';
    return `Record<string, ${isSchema(extra) ? typeOf(extra, walk) : 'unknown'}>`;
  }
  const inner = walk.indent + '  ';
  const lines: string[] = ['{'];
  for (const key of keys) {
    const property = properties[key];
    const doc = isSchema(property) ? jsDoc(docLines(property), inner) : '';
    if (doc) lines.push(doc);
    const optional = required.has(key) ? '' : '?';
    lines.push(`${inner}${propertyKey(key)}${optional}: ${typeOf(property, { ...walk, indent: inner })};`);
  }
  // A typed index signature would have to cover every named property, so extra keys are `unknown`.
  if (isSchema(extra) || extra === true) lines.push(`${inner}[key: string]: unknown;`);
  lines.push(`${walk.indent}}`);
  return lines.join('\n');
}

function docLines(schema: Schema): string[] {
  const lines: string[] = [];
  if (typeof schema.description === 'string' && schema.description.trim())
    lines.push(...schema.description.trim().split('\n'));
  if ('default' in schema) {
    const value = JSON.stringify(schema.default);
    if (value !== undefined && value.length <= 80) lines.push(`@default ${value}`);
  }
  return lines;
}

/** A JSDoc block (one line when it fits), with `*\/` escaped so a description cannot end the comment. */
export function jsDoc(lines: string[], indent: string): string {
  const safe = lines.map((line) => line.replace(/\*\//g, '*\\/').trimEnd());
  if (safe.length === 0) return '';
  if (safe.length === 1) return `${indent}/** ${safe[0]} */`;
  return [`${indent}/**`, ...safe.map((line) => (line ? `${indent} * ${line}` : `${indent} *`)), `${indent} */`].join(
    '\n',
  );
}

function literal(value: unknown): string {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
    return typeof value === 'number' && !Number.isFinite(value) ? 'number' : JSON.stringify(value);
  }
  return 'unknown';
}

function union(parts: string[]): string {
  const unique = [...new Set(parts)];
  if (unique.length === 0) return 'never';
  if (unique.includes('unknown')) return 'unknown';
  return unique.join(' | ');
}

function parens(type: string): string {
  return type.includes(' | ') ? `(${type})` : type;
}

function withNull(type: string, nullable: boolean): string {
  return nullable && type !== 'unknown' && type !== 'null' ? `${type} | null` : type;
}

function resolveRef(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isSchema(node)) return undefined;
    node = node[part];
  }
  return node;
}

function propertyKey(key: string): string {
  return IDENTIFIER.test(key) ? key : JSON.stringify(key);
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A valid identifier for a tool or server name (`get-sum` → `get_sum`, `2fa` → `_2fa`). */
export function toIdentifier(name: string): string {
  const replaced = name.replace(/[^\w$]/g, '_');
  return /^\d/.test(replaced) || replaced === '' ? `_${replaced}` : replaced;
}

/**
 * Method names for a server's tools: each tool's identifier, with `_2`, `_3`… when two names collapse to
 * the same identifier. Assigned in sorted name order, so it depends only on the set of names.
 */
export function toolIdentifiers(toolNames: Iterable<string>): Map<string, string> {
  const byIdentifier = new Map<string, string>();
  for (const name of [...new Set(toolNames)].sort()) {
    const base = toIdentifier(name);
    let identifier = base;
    for (let n = 2; byIdentifier.has(identifier); n++) identifier = `${base}_${n}`;
    byIdentifier.set(identifier, name);
  }
  return byIdentifier;
}

/** One tool as a method signature: JSDoc, `name(args: {…}): Promise<Output>;`. */
export function toolSignature(tool: Tool, identifier = toIdentifier(tool.name), indent = ''): string {
  const input = schemaToTypeScript(tool.inputSchema, indent);
  const hasRequired = Array.isArray(tool.inputSchema.required) && tool.inputSchema.required.length > 0;
  const output = tool.outputSchema ? schemaToTypeScript(tool.outputSchema, indent) : 'unknown';
  const doc: string[] = tool.description?.trim() ? tool.description.trim().split('\n') : [];
  if (identifier !== tool.name) doc.push(`@tool ${tool.name}`);
  const header = jsDoc(doc, indent);
  const signature = `${indent}${identifier}(args${hasRequired ? '' : '?'}: ${input}): Promise<${output}>;`;
  return header ? `${header}\n${signature}` : signature;
}

const API_DECLARATIONS = `export interface ParallelCall {
  server: string;
  tool: string;
  args?: Record<string, unknown>;
}

export type ParallelResult =
  | { ok: true; value: unknown }
  | { ok: false; error: { message: string; server?: string; tool?: string; code?: string } };

export interface FetchResponse {
  ok: boolean;
  status: number;
  statusText: string;
  url: string;
  headers: Record<string, string>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export interface Api {
  call_tool(server: string, tool: string, args?: Record<string, unknown>): Promise<unknown>;
  server<S extends keyof Servers>(name: S): Servers[S];
  parallel(calls: ParallelCall[], options?: { concurrency?: number }): Promise<ParallelResult[]>;
  manifest(): Promise<unknown>;
  search(query: string, options?: { namespace?: string; max_depth?: 0 | 1 | 2 | 3; limit?: number }): Promise<unknown>;
  fetch(url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<FetchResponse>;
}

export interface ToolErrorLike extends Error {
  name: 'ToolError';
  server: string;
  tool: string;
  code?: string;
}

declare global {
  const api: Api;
  const ToolError: { new (message: string): ToolErrorLike; prototype: ToolErrorLike };
}
`;

/**
 * A `.d.ts` for the whole catalog: one interface per server (a method per tool), `Servers` mapping server
 * names to them, and the `api` global that code in `execute` sees.
 *
 * @example
 * writeFileSync('index.d.ts', generateCatalogDeclarations(catalog.tools));
 */
export function generateCatalogDeclarations(tools: CatalogTool[]): string {
  const byServer = new Map<string, CatalogTool[]>();
  for (const tool of tools) byServer.set(tool.server, [...(byServer.get(tool.server) ?? []), tool]);
  const out: string[] = ['// Generated by mcproxy from the live catalog. Do not edit.', ''];
  const interfaceNames = new Set<string>();
  const entries: string[] = [];
  for (const server of [...byServer.keys()].sort()) {
    const serverTools = byServer.get(server) ?? [];
    const base = `${pascalCase(server)}Server`;
    let interfaceName = base;
    for (let n = 2; interfaceNames.has(interfaceName); n++) interfaceName = `${base}${n}`;
    interfaceNames.add(interfaceName);
    const identifiers = toolIdentifiers(serverTools.map((t) => t.originalName));
    const byName = new Map(serverTools.map((t) => [t.originalName, t]));
    out.push(`/** Tools of server ${JSON.stringify(server)}. */`, `export interface ${interfaceName} {`);
    for (const [identifier, name] of identifiers) {
      const tool = byName.get(name);
      if (tool) out.push(toolSignature({ ...tool.definition, name }, identifier, '  '));
    }
    out.push('}', '');
    entries.push(`  ${JSON.stringify(server)}: ${interfaceName};`);
  }
  out.push('export interface Servers {', ...entries, '}', '', API_DECLARATIONS);
  return out.join('\n');
}

function pascalCase(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
  return /^\d/.test(joined) || joined === '' ? `S${joined}` : joined;
}
