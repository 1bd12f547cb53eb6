import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * One gateway replica from dist/main.js, named by MCPROXY_REPLICA_ID (the prefix of its session ids), once its
 * servers are up (`Gateway ready`), so that a load balancer in front of it can be sent traffic at once.
 * @example const r1 = await startReplica('r1', configPath, { REDIS_URL: redis.url });
 */
export async function startReplica(
  id: string,
  configPath: string,
  env: NodeJS.ProcessEnv = {},
): Promise<GatewayProcess> {
  const replica = await startGatewayProcess({ configPath, env: { ...env, MCPROXY_REPLICA_ID: id } });
  await waitFor(() => replica.stdout.some((line) => line.includes('Gateway ready')), { message: `${id} ready` });
  return replica;
}

/** The text blocks of a tool result, one a line; a result without content gives ''. */
export function textOf(result: unknown): string {
  return (((result as { content?: unknown }).content as { text?: string }[] | undefined) ?? [])
    .map((item) => item.text ?? '')
    .join('\n');
}
