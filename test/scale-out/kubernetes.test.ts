// The Kustomize base in deploy/kubernetes, checked with what installs here: every manifest against the
// Kubernetes OpenAPI schemas bundled by the npm package kubernetes-models (types, required fields, formats),
// every field name against the same package's TypeScript types (the compiler refuses unknown properties, as
// `kubectl apply --validate=strict` would), the HAProxy configuration with Debian's `haproxy -c`, the
// gateway's config with its own loader, and the wiring between them (selectors, probes, names).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

import { loadConfig } from '../../src/config/load.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { createTempDir } from '../helpers/temp-dir.js';

const BASE = path.join(REPO_ROOT, 'deploy/kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [field: string]: unknown;
}

const kustomization = parse(readFileSync(path.join(BASE, 'kustomization.yaml'), 'utf8')) as {
  namespace: string;
  resources: string[];
};
const manifests: { file: string; doc: Manifest }[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(BASE, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    return { file, doc: doc.toJS() as Manifest };
  }),
);

function find<T = Manifest>(kind: string, name: string): T {
  const found = manifests.find(({ doc }) => doc.kind === kind && doc.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found.doc as T;
}

/** The kubernetes-models module of an apiVersion: `v1`, `apps/v1`, `policy/v1`. */
function modelModule(apiVersion: string): string {
  return `kubernetes-models/${apiVersion}`;
}

type Container = {
  name: string;
  ports?: { name: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  livenessProbe?: { httpGet?: { path: string; port: string }; tcpSocket?: { port: string } };
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
};
type Workload = Manifest & {
  spec: {
    replicas: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
  };
};

/** Type-checks one TypeScript module that exists only in memory (beside the tests, to find node_modules). */
function typeCheck(source: string): string[] {
  const fileName = path.join(REPO_ROOT, 'test/scale-out/manifests.virtual.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (name) => name === fileName || ts.sys.fileExists(name);
  host.getSourceFile = (name, language) =>
    name === fileName ? ts.createSourceFile(name, source, language) : getSourceFile(name, language);
  return ts
    .getPreEmitDiagnostics(ts.createProgram([fileName], options, host))
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
}

describe('deploy/kubernetes', () => {
  it('every manifest is valid against the Kubernetes schemas', async () => {
    expect(manifests.length).toBeGreaterThanOrEqual(10);
    for (const { file, doc } of manifests) {
      const models = (await import(modelModule(doc.apiVersion))) as Record<
        string,
        new (data: unknown) => { validate(): void }
      >;
      const Model = models[doc.kind];
      if (!Model) throw new Error(`${file}: no schema for ${doc.apiVersion} ${doc.kind}`);
      expect(() => new Model(doc).validate(), `${file}: ${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
  });

  it('no manifest has a field the Kubernetes API does not know', () => {
    // Each manifest as an object literal typed with its kind: the compiler reports every excess property.
    const imports = [...new Set(manifests.map(({ doc }) => `${doc.apiVersion} ${doc.kind}`))].map((key) => {
      const [apiVersion, kind] = key.split(' ') as [string, string];
      return `import type { I${kind} as ${kind.replace(/\W/g, '')}_${apiVersion.replace(/\W/g, '_')} } from '${modelModule(apiVersion)}';`;
    });
    const declarations = manifests.map(
      ({ doc }, index) =>
        `export const manifest${index}: ${doc.kind.replace(/\W/g, '')}_${doc.apiVersion.replace(/\W/g, '_')} = ${JSON.stringify(doc)};`,
    );
    const problems = typeCheck([...imports, ...declarations].join('\n'));
    expect(problems).toEqual([]);
  });

  it('a mistyped field is caught (the check above can fail)', () => {
    const { doc } = manifests.find((entry) => entry.doc.kind === 'StatefulSet')!;
    const broken = JSON.stringify(doc).replace('"readinessProbe"', '"readinessProb"');
    const problems = typeCheck(
      `import type { IStatefulSet } from 'kubernetes-models/apps/v1';\nexport const s: IStatefulSet = ${broken};`,
    );
    expect(problems.join('\n')).toMatch(/readinessProb/);
  });

  it('the replicas: stable names for their ids, readiness on /ready, liveness on the port, limits, a disruption budget', () => {
    const gateway = find<Workload>('StatefulSet', 'mcproxy');
    expect(gateway.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(gateway.spec.template.metadata.labels).toMatchObject(gateway.spec.selector.matchLabels);
    const headless = find<Manifest & { spec: { clusterIP?: string; selector: Record<string, string> } }>(
      'Service',
      gateway.spec.serviceName!,
    );
    expect(headless.spec.clusterIP).toBe('None');
    expect(gateway.spec.template.metadata.labels).toMatchObject(headless.spec.selector);
    const [container] = gateway.spec.template.spec.containers;
    expect(container!.readinessProbe?.httpGet?.path).toBe('/ready');
    // Liveness asks only whether the process answers: /health is 503 while an upstream server is down.
    expect(container!.livenessProbe?.tcpSocket?.port).toBe(container!.readinessProbe?.httpGet?.port);
    expect(container!.ports?.map((port) => port.name)).toContain(container!.readinessProbe?.httpGet?.port);
    expect(container!.env?.find((entry) => entry.name === 'MCPROXY_REPLICA_ID')?.valueFrom?.fieldRef?.fieldPath).toBe(
      'metadata.name',
    );
    const budget = find<Manifest & { spec: { minAvailable: number; selector: { matchLabels: object } } }>(
      'PodDisruptionBudget',
      'mcproxy',
    );
    expect(budget.spec.selector.matchLabels).toEqual(gateway.spec.selector.matchLabels);
    expect(budget.spec.minAvailable).toBeLessThan(gateway.spec.replicas);
    for (const { doc } of manifests.filter(({ doc }) => ['Deployment', 'StatefulSet'].includes(doc.kind))) {
      for (const each of (doc as Workload).spec.template.spec.containers) {
        expect(each.resources?.limits, `${doc.metadata.name}/${each.name}`).toMatchObject({
          cpu: expect.any(String),
          memory: expect.any(String),
        });
        expect(each.readinessProbe, `${doc.metadata.name}/${each.name}`).toBeDefined();
      }
    }
  });

  it("HAProxy's configuration is valid, and routes each replica's sessions to that replica", async () => {
    const gateway = find<Workload>('StatefulSet', 'mcproxy');
    const { data } = find<Manifest & { data: Record<string, string> }>('ConfigMap', 'haproxy-config');
    const config = data['haproxy.cfg']!;
    for (let index = 0; index < gateway.spec.replicas; index++) {
      const name = `${gateway.metadata.name}-${index}`;
      expect(config).toContain(`use-server ${name} if { req.hdr(mcp-session-id) -m beg ${name}. }`);
      expect(config).toContain(
        `server ${name} ${name}.${gateway.spec.serviceName}.${kustomization.namespace}.svc.cluster.local:12010`,
      );
    }
    expect(config).toContain('uri /ready');
    await using dir = await createTempDir();
    const checked = spawnSync('haproxy', ['-c', '-f', await dir.write('haproxy.cfg', config)], { encoding: 'utf8' });
    expect(checked.error).toBeUndefined();
    expect(checked.stdout + checked.stderr).toContain('Configuration file is valid');
    expect(checked.status).toBe(0);
  });

  it("the gateway's config loads, with its state in Redis", async () => {
    const { data } = find<Manifest & { data: Record<string, string> }>('ConfigMap', 'mcproxy-config');
    await using dir = await createTempDir();
    const configPath = await dir.write('config.json', data['config.json']!);
    const config = await loadConfig(configPath, {
      env: { REDIS_URL: 'redis://redis:6379', OWNER_PASSWORD: 'an-owner-password-for-the-check' },
    });
    expect(config.state).toEqual({ store: 'redis', url: 'redis://redis:6379', keyPrefix: 'mcproxy:' });
  });
});
