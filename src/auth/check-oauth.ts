import { type ConfigIssue, formatPath, isRecord, type PathSegment, suggest } from '../config/issues.js';
import { BUILT_IN_ISSUER_NAME } from '../config/model.js';
import { issuerName } from './oauth-config.js';

/**
 * What the schema cannot say about `auth.oauth`: it needs an authorization server (external or built-in),
 * issuer names (which prefix credential ids) are unique and not the built-in one's, rule ids are unique, and
 * rules name known namespaces and issuers. Works on unvalidated data; the schema reports wrong shapes.
 */
export function checkOAuthSemantics(data: Record<string, unknown>, namespaces: string[]): ConfigIssue[] {
  const auth = data['auth'];
  const oauth = isRecord(auth) ? auth['oauth'] : undefined;
  if (!isRecord(oauth)) return [];
  const issues: ConfigIssue[] = [];
  const at = (segments: PathSegment[], message: string): void => {
    issues.push({ path: formatPath(segments, data), message });
  };
  const base: PathSegment[] = ['auth', 'oauth'];
  const servers = Array.isArray(oauth['authorization_servers']) ? oauth['authorization_servers'] : [];
  const builtIn = isRecord(oauth['server']) && oauth['server']['enabled'] !== false;
  if (servers.length === 0 && !builtIn) {
    at(base, 'needs "authorization_servers" (external) or "server" (the built-in one) to accept any token');
  }

  const names = new Map<string, number>();
  const urls = new Map<string, number>();
  servers.forEach((entry, index) => {
    if (!isRecord(entry) || typeof entry['issuer'] !== 'string') return;
    const where: PathSegment[] = [...base, 'authorization_servers', index];
    const name = issuerName({
      issuer: entry['issuer'],
      ...(typeof entry['name'] === 'string' ? { name: entry['name'] } : {}),
    });
    if (name === BUILT_IN_ISSUER_NAME)
      at([...where, 'name'], `"${name}" is the built-in server's name; choose another`);
    const twin = names.get(name);
    if (twin !== undefined) {
      at(
        [...where, 'name'],
        `two authorization servers are named "${name}" (also [${twin}]); give each its own "name"`,
      );
    } else names.set(name, index);
    const sameUrl = urls.get(entry['issuer']);
    if (sameUrl !== undefined) at([...where, 'issuer'], `the same issuer as authorization_servers[${sameUrl}]`);
    else urls.set(entry['issuer'], index);
  });

  const issuers = [...names.keys(), ...(builtIn ? [BUILT_IN_ISSUER_NAME] : [])];
  const rules = Array.isArray(oauth['credentials']) ? oauth['credentials'] : [];
  const ids = new Map<string, number>();
  rules.forEach((rule, index) => {
    if (!isRecord(rule)) return;
    const where: PathSegment[] = [...base, 'credentials', index];
    if (typeof rule['id'] === 'string') {
      const twin = ids.get(rule['id']);
      if (twin !== undefined) at([...where, 'id'], `duplicate rule id "${rule['id']}" (also credentials[${twin}])`);
      else ids.set(rule['id'], index);
    }
    listOf(rule['namespaces']).forEach((name, position) => {
      if (name !== undefined && !namespaces.includes(name))
        at([...where, 'namespaces', position], unknown('namespace', name, namespaces));
    });
    listOf(rule['issuers']).forEach((name, position) => {
      if (name !== undefined && !issuers.includes(name))
        at([...where, 'issuers', position], unknown('authorization server', name, issuers));
    });
  });
  return issues;
}

/** The strings of a list, holes where an item is no string (the schema reports those). */
function listOf(value: unknown): (string | undefined)[] {
  return Array.isArray(value) ? value.map((item) => (typeof item === 'string' ? item : undefined)) : [];
}

function unknown(kind: string, name: string, known: string[]): string {
  const guess = suggest(name, known);
  return `unknown ${kind} "${name}"${guess === undefined ? '' : `; did you mean "${guess}"?`}`;
}
