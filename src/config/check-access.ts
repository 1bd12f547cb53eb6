import { checkOAuthSemantics } from '../auth/check-oauth.js';
import { type ConfigIssue, formatPath, isRecord, type PathSegment, suggest } from './issues.js';

/** A server entry as the semantic checks see it: its name, where it sits, and its own `namespace` tag. */
export interface ServerRef {
  name: string;
  segments: PathSegment[];
  entry: unknown;
}

/**
 * What the schema cannot say about namespaces and credentials: unknown servers, parents and namespaces,
 * inheritance cycles, isolation broken by `extends` or by sharing a server, duplicate credentials. Works on
 * unvalidated data (anything of the wrong shape is skipped; the schema reports it).
 */
export function checkAccessSemantics(data: unknown, servers: ServerRef[]): ConfigIssue[] {
  if (!isRecord(data)) return [];
  const issues: ConfigIssue[] = [];
  const at = (segments: PathSegment[], message: string): void => {
    issues.push({ path: formatPath(segments, data), message });
  };
  const serverNames = servers.map((server) => server.name);
  const namespaces = isRecord(data['namespaces']) ? data['namespaces'] : undefined;
  const declared = namespaces ? Object.keys(namespaces) : [];
  const tags = new Map<string, string>();
  for (const server of servers) {
    const tag = isRecord(server.entry) ? server.entry['namespace'] : undefined;
    if (typeof tag !== 'string') continue;
    tags.set(server.name, tag);
    // Without a `namespaces` block, tags declare namespaces (the seeds' style); with one, an unknown tag is a typo.
    if (namespaces && !declared.includes(tag))
      at([...server.segments, 'namespace'], unknownName('namespace', tag, declared));
  }
  const known = namespaces ? declared : [...new Set(tags.values())];

  if (namespaces) {
    const isolated = new Set(
      declared.filter((name) => isRecord(namespaces[name]) && namespaces[name]['isolated'] === true),
    );
    const parents = new Map<string, string[]>();
    const owners = new Map<string, Set<string>>();
    const own = (server: string, namespace: string): void => {
      const set = owners.get(server) ?? new Set<string>();
      set.add(namespace);
      owners.set(server, set);
    };
    for (const [server, tag] of tags) if (declared.includes(tag)) own(server, tag);
    for (const [name, value] of Object.entries(namespaces)) {
      const listPath: PathSegment[] = Array.isArray(value) ? ['namespaces', name] : ['namespaces', name, 'servers'];
      const members = Array.isArray(value) ? value : isRecord(value) ? value['servers'] : undefined;
      if (Array.isArray(members)) {
        members.forEach((member, index) => {
          if (typeof member !== 'string') return;
          if (serverNames.includes(member)) own(member, name);
          else at([...listPath, index], unknownName('server', member, serverNames));
        });
      }
      const list = parentList(isRecord(value) ? value['extends'] : undefined);
      parents.set(
        name,
        list.filter((parent) => declared.includes(parent)),
      );
      for (const parent of list) {
        if (!declared.includes(parent)) at(['namespaces', name, 'extends'], unknownName('namespace', parent, declared));
        else if (isolated.has(parent)) {
          at(['namespaces', name, 'extends'], `cannot extend "${parent}": it is isolated, so no namespace includes it`);
        }
      }
    }
    const cycle = findCycle(parents);
    if (cycle) at(['namespaces', cycle[0] ?? '', 'extends'], `inheritance cycle: ${cycle.join(' → ')}`);
    for (const [server, names] of owners) {
      const lonely = [...names].find((name) => isolated.has(name));
      if (lonely === undefined || names.size === 1) continue;
      const others = [...names].filter((name) => name !== lonely).map((name) => `"${name}"`);
      at(
        ['namespaces', lonely],
        `server "${server}" of isolated namespace "${lonely}" is also in ${others.join(', ')}; an isolated namespace's servers belong to it alone`,
      );
    }
  }

  issues.push(...checkCredentials(data, known), ...checkOAuthSemantics(data, known));
  return issues;
}

function checkCredentials(data: Record<string, unknown>, namespaces: string[]): ConfigIssue[] {
  const auth = data['auth'];
  const tokens = isRecord(auth) ? auth['tokens'] : undefined;
  if (!Array.isArray(tokens)) return [];
  const issues: ConfigIssue[] = [];
  const at = (segments: PathSegment[], message: string): void => {
    issues.push({ path: formatPath(segments, data), message });
  };
  const ids = new Map<string, number>();
  const secrets = new Map<string, number>();
  tokens.forEach((credential, index) => {
    if (!isRecord(credential)) return;
    const base: PathSegment[] = ['auth', 'tokens', index];
    const { id, token } = credential;
    if (typeof id === 'string') {
      const first = ids.get(id);
      if (first !== undefined) at([...base, 'id'], `duplicate credential id "${id}" (also at auth.tokens[${first}])`);
      else ids.set(id, index);
    }
    if (typeof token === 'string') {
      // Never print the token: only where its twin is.
      const first = secrets.get(token);
      if (first !== undefined)
        at([...base, 'token'], `the same token as auth.tokens[${first}]; each credential needs its own`);
      else secrets.set(token, index);
    }
    const list = credential['namespaces'];
    if (Array.isArray(list)) {
      list.forEach((name, position) => {
        if (typeof name === 'string' && !namespaces.includes(name)) {
          at([...base, 'namespaces', position], unknownName('namespace', name, namespaces));
        }
      });
    }
  });
  return issues;
}

function parentList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

function unknownName(kind: string, name: string, known: string[]): string {
  const guess = suggest(name, known);
  return `unknown ${kind} "${name}"${guess === undefined ? '' : `; did you mean "${guess}"?`}`;
}

function findCycle(parents: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const visit = (name: string, trail: string[]): string[] | undefined => {
    const loop = trail.indexOf(name);
    if (loop !== -1) return [...trail.slice(loop), name];
    if (done.has(name)) return undefined;
    for (const parent of parents.get(name) ?? []) {
      const found = visit(parent, [...trail, name]);
      if (found) return found;
    }
    done.add(name);
    return undefined;
  };
  for (const name of parents.keys()) {
    const found = visit(name, []);
    if (found) return found;
  }
  return undefined;
}
