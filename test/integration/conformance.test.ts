import { describe, expect, it } from 'vitest';

import { runConformance, startConformanceFixtureHttp } from '../helpers/conformance.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir } from '../helpers/temp-dir.js';

// The official server conformance suite (run under Node 22 from npm), against our fixture directly and
// against the gateway with the same fixture behind it, unprefixed. Every check that passes direct must
// pass through the gateway, and the gateway's own DNS-rebinding protection must pass.

const DNS_REBINDING_CHECKS = [
  'dns-rebinding-protection/localhost-host-rebinding-rejected',
  'dns-rebinding-protection/localhost-host-valid-accepted',
];

describe('@modelcontextprotocol/conformance server suite', () => {
  it(
    'passes through the gateway every check it passes against the fixture directly',
    async () => {
      await using fixture = await startConformanceFixtureHttp();
      const direct = await runConformance(fixture.url);
      expect(direct.failed).toEqual([]);
      expect(direct.passed.length).toBeGreaterThanOrEqual(40);

      await using dir = await createTempDir();
      const configPath = await dir.write('mcp.json', {
        servers: { conformance: { command: process.execPath, args: [fixturePath('conformance')], prefix: '' } },
      });
      await using gateway = await startGatewayProcess({ configPath });
      const through = await runConformance(`${gateway.url}/mcp`);

      const passedThrough = new Set(through.passed.map((check) => check.key));
      const lost = direct.passed.map((check) => check.key).filter((key) => !passedThrough.has(key));
      expect(lost, JSON.stringify(through.failed, null, 2)).toEqual([]);
      expect(through.failed).toEqual([]);
      for (const key of DNS_REBINDING_CHECKS) expect(passedThrough).toContain(key);
    },
    6 * 60_000,
  );
});
