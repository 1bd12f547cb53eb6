// Issue 12: tasks (2025-11-25) relayed through the gateway: a task-augmented tools/call to server-everything
// completes with tasks/get and tasks/result, tasks/list shows the caller's own tasks, cancel works, and another
// client can neither see nor use the task.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  CancelTaskResultSchema,
  CreateTaskResultSchema,
  GetTaskResultSchema,
  ListTasksResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { EVERYTHING_MAIN } from '../helpers/real-servers.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const HOSTILE = fixturePath('hostile');
let dir: TempDir;
let gateway: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  const configPath = await dir.write('mcp.json', {
    servers: {
      everything: { command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'] },
      // Answers a task-augmented call with a task, then never answers about it; one second per request.
      hostile: { command: process.execPath, args: [HOSTILE], tool_timeout: 1 },
    },
  });
  gateway = await startGatewayProcess({ configPath });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
});

afterAll(async () => {
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

async function connect(): Promise<Client> {
  const client = new Client({ name: 'tasks-test', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
  return client;
}

const research = (topic: string) => ({
  method: 'tools/call' as const,
  params: { name: 'everything__simulate-research-query', arguments: { topic }, task: { ttl: 60_000 } },
});

describe('tasks through the gateway', () => {
  it('a task-augmented call completes: tasks/get, tasks/list and tasks/result, under a gateway id', async () => {
    const client = await connect();
    const created = await client.request(research('gateways'), CreateTaskResultSchema);
    const taskId = created.task.taskId;
    expect(taskId).toMatch(/^task-/);
    const got = await client.request({ method: 'tasks/get', params: { taskId } }, GetTaskResultSchema);
    expect(got.taskId).toBe(taskId);
    expect(['working', 'completed']).toContain(got.status);
    const listed = await client.request({ method: 'tasks/list', params: {} }, ListTasksResultSchema);
    expect(listed.tasks.map((task) => task.taskId)).toEqual([taskId]);
    const result = await client.request({ method: 'tasks/result', params: { taskId } }, CallToolResultSchema);
    expect(JSON.stringify(result.content)).toContain('Research Report: gateways');
    expect(result._meta?.['io.modelcontextprotocol/related-task']).toEqual({ taskId });
    const done = await client.request({ method: 'tasks/get', params: { taskId } }, GetTaskResultSchema);
    expect(done.status).toBe('completed');
    await client.close();
  });

  it('cancels a task', async () => {
    const client = await connect();
    const { task } = await client.request(research('to be cancelled'), CreateTaskResultSchema);
    const cancelled = await client.request(
      { method: 'tasks/cancel', params: { taskId: task.taskId } },
      CancelTaskResultSchema,
    );
    expect(cancelled).toMatchObject({ taskId: task.taskId, status: 'cancelled' });
    const after = await client.request({ method: 'tasks/get', params: { taskId: task.taskId } }, GetTaskResultSchema);
    expect(after.status).toBe('cancelled');
    await client.close();
  });

  it("another client can neither list nor use a client's task", async () => {
    const owner = await connect();
    const other = await connect();
    const { task } = await owner.request(research('private'), CreateTaskResultSchema);
    expect((await other.request({ method: 'tasks/list', params: {} }, ListTasksResultSchema)).tasks).toEqual([]);
    for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel'] as const) {
      await expect(other.request({ method, params: { taskId: task.taskId } }, GetTaskResultSchema)).rejects.toThrow(
        /unknown task/,
      );
    }
    await owner.request({ method: 'tasks/cancel', params: { taskId: task.taskId } }, CancelTaskResultSchema);
    await Promise.all([owner.close(), other.close()]);
  });

  it("tasks/list is bounded by each server's timeout: a server that never answers leaves its task out", async () => {
    const client = await connect();
    const { task } = await client.request(research('listed'), CreateTaskResultSchema);
    const silent = await client.request(
      { method: 'tools/call', params: { name: 'hostile__silent_task', arguments: {}, task: { ttl: 60_000 } } },
      CreateTaskResultSchema,
    );
    expect(silent.task.taskId).toMatch(/^task-/);
    // Without a bound, the list waits for the silent server for good (here: until the client gives up).
    const listed = await client.request({ method: 'tasks/list', params: {} }, ListTasksResultSchema, {
      timeout: 20_000,
    });
    expect(listed.tasks.map((listedTask) => listedTask.taskId)).toEqual([task.taskId]);
    await expect(
      client.request({ method: 'tasks/get', params: { taskId: silent.task.taskId } }, GetTaskResultSchema),
    ).rejects.toThrow(/timed out|did not answer|timeout/i);
    await client.request({ method: 'tasks/cancel', params: { taskId: task.taskId } }, CancelTaskResultSchema);
    await client.close();
  });

  it('many clients listing at once, each with a silent task, each get their own tasks and no one waits for good', async () => {
    const clients = await Promise.all(Array.from({ length: 12 }, () => connect()));
    const silentTask = { name: 'hostile__silent_task', arguments: {}, task: { ttl: 60_000 } };
    const created = await Promise.all(
      clients.map(async (client) => {
        const { task } = await client.request(research('crowd'), CreateTaskResultSchema);
        await client.request({ method: 'tools/call', params: silentTask }, CreateTaskResultSchema);
        return task.taskId;
      }),
    );
    const listed = await Promise.all(
      clients.map((client) =>
        client.request({ method: 'tasks/list', params: {} }, ListTasksResultSchema, { timeout: 20_000 }),
      ),
    );
    listed.forEach((list, index) => expect(list.tasks.map((task) => task.taskId)).toEqual([created[index]]));
    await Promise.all(
      clients.map((client, index) =>
        client.request({ method: 'tasks/cancel', params: { taskId: created[index] } }, CancelTaskResultSchema),
      ),
    );
    await Promise.all(clients.map((client) => client.close()));
  });
});
