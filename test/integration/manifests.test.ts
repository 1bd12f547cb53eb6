import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { bareRpc } from '../helpers/bare-rpc.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

describe('manifests', () => {
  it('after the dwell, writes typed stubs, refreshes on changes and tries failed servers again', async () => {
    await using dir = await createTempDir();
    const stubs = dir.resolve('stubs');
    const configPath = await dir.write('mcp.json', {
      mode: 'code',
      manifests: {
        startup_dwell_secs: 0.5,
        refresh_event_hooks: { pre_refresh: ['health_check_all'], post_refresh: ['restart_failed'] },
        typed_stub_generation: { enabled: true, output_dir: stubs },
      },
      servers: {
        ok: { command: process.execPath, args: [fixturePath('ok')] },
        broken: { command: process.execPath, args: [fixturePath('fails-to-start')], restart: { max_attempts: 0 } },
      },
    });
    await using gateway = await startGatewayProcess({ configPath });
    const log = () => gateway.stdout.join('\n');
    await waitFor(() => /Manifest refreshed \(startup\)/.test(log()), { message: 'the first manifest' });
    expect(await readFile(`${stubs}/index.d.ts`, 'utf8')).toContain('interface OkServer');
    // restart_failed gave the broken server one more start; it failed again and stays failed.
    await waitFor(() => /Server 'broken': trying again after it failed/.test(log()), { message: 'restart_failed ran' });
    const health = (await (await fetch(`${gateway.url}/health`)).json()) as {
      servers: { broken: { restarts: number } };
    };
    expect(health.servers.broken.restarts).toBeGreaterThanOrEqual(1);

    // A tool added at runtime shows in the next manifest's stubs.
    await bareRpc(gateway.url, 'tools/call', {
      name: 'execute',
      arguments: { code: "return api.call_tool('ok', 'add_tool', { name: 'late_tool' })" },
    });
    await waitFor(async () => (await readFile(`${stubs}/index.d.ts`, 'utf8')).includes('late_tool'), {
      message: 'the stubs follow the catalog',
    });
  });
});
