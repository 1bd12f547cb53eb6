import { randomUUID } from 'node:crypto';

import type { ServerNotification } from '@modelcontextprotocol/sdk/types.js';

import { GatewayError } from '../errors.js';
import type { UpstreamInstance } from '../upstream/instance.js';
import type { CallOrigin, Owner } from './owner.js';

/** How long a task is remembered after it was created when the server names no ttl. */
const DEFAULT_TASK_TTL_MS = 60 * 60_000;
const MAX_TASKS = 10_000;
const RELATED_TASK = 'io.modelcontextprotocol/related-task';

interface TaskEntry {
  publicId: string;
  upstreamId: string;
  server: string;
  instance: UpstreamInstance;
  owner: Owner;
  expiresAt: number;
}

/**
 * Tasks (2025-11-25: a task-augmented `tools/call`, then `tasks/get`, `tasks/result`, `tasks/list`,
 * `tasks/cancel` and `notifications/tasks/status`) relayed per server and owner. Each upstream task gets a
 * gateway id of its own, so two servers' (or two instances') task ids never collide and no client can name
 * another's task; results and status notices are rewritten back to the gateway id and go to the owner only.
 */
export class TaskRelay {
  private readonly byPublic = new Map<string, TaskEntry>();
  private readonly byUpstream = new Map<string, TaskEntry>();

  /** A task-augmented call answered with a task: remember it and hand out the gateway's id instead. */
  register(
    server: string,
    instance: UpstreamInstance,
    owner: Owner,
    result: Record<string, unknown>,
  ): Record<string, unknown> {
    const task = result.task as { taskId?: unknown; ttl?: unknown } | undefined;
    if (!task || typeof task.taskId !== 'string') return result;
    this.sweep();
    const ttl = typeof task.ttl === 'number' && task.ttl > 0 ? task.ttl : DEFAULT_TASK_TTL_MS;
    const entry: TaskEntry = {
      publicId: `task-${randomUUID()}`,
      upstreamId: task.taskId,
      server,
      instance,
      owner,
      expiresAt: Date.now() + ttl,
    };
    this.byPublic.set(entry.publicId, entry);
    this.byUpstream.set(keyOf(instance, task.taskId), entry);
    return { ...result, task: { ...task, taskId: entry.publicId } };
  }

  /** The upstream task a client names, if the client may use it (its session, or its credential's). */
  find(publicId: unknown, owner: Owner): TaskEntry {
    const entry = typeof publicId === 'string' ? this.byPublic.get(publicId) : undefined;
    if (!entry || entry.expiresAt < Date.now() || !sameOwner(entry.owner, owner)) {
      throw new GatewayError('INVALID_PARAMS', `unknown task "${String(publicId).slice(0, 100)}"`);
    }
    return entry;
  }

  /** `tasks/get`, `tasks/result`, `tasks/cancel` for the caller's task, answered with the gateway's id. */
  async relay(
    method: string,
    params: Record<string, unknown>,
    origin: CallOrigin,
    options: { signal: AbortSignal; timeoutMs?: number },
  ): Promise<Record<string, unknown>> {
    const entry = this.find(params.taskId, origin.owner);
    const result = await entry.instance.request(
      method,
      { ...params, taskId: entry.upstreamId },
      { origin, signal: options.signal, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) },
    );
    return this.rewrite(result, entry);
  }

  /**
   * `tasks/list`: the caller's own tasks, as each server reports them now. Each server's answer is bounded by
   * `timeoutOf(server)`: a task whose server does not answer in time (or at all) is left out, not waited for.
   */
  async list(
    origin: CallOrigin,
    signal: AbortSignal,
    timeoutOf: (server: string) => number | undefined,
  ): Promise<Record<string, unknown>> {
    const mine = [...this.byPublic.values()].filter(
      (entry) => entry.expiresAt >= Date.now() && sameOwner(entry.owner, origin.owner),
    );
    const tasks = await Promise.all(
      mine.map(async (entry) => {
        try {
          const timeoutMs = timeoutOf(entry.server);
          const options = { origin, signal, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
          const task = await entry.instance.request('tasks/get', { taskId: entry.upstreamId }, options);
          return this.rewrite(task, entry);
        } catch {
          return undefined;
        }
      }),
    );
    return { tasks: tasks.filter((task) => task !== undefined) };
  }

  /** A server's `notifications/tasks/status`: to the task's owner only, under the gateway's id. */
  status(
    instance: UpstreamInstance,
    params: Record<string, unknown>,
  ): { owner: Owner; notification: ServerNotification } | undefined {
    const entry = typeof params.taskId === 'string' ? this.byUpstream.get(keyOf(instance, params.taskId)) : undefined;
    if (!entry) return undefined;
    return {
      owner: entry.owner,
      notification: { method: 'notifications/tasks/status', params: { ...params, taskId: entry.publicId } } as never,
    };
  }

  /** Forgets the tasks of an instance that stopped. */
  forgetInstance(instance: UpstreamInstance): void {
    for (const entry of [...this.byPublic.values()]) if (entry.instance === instance) this.remove(entry);
  }

  private rewrite(result: Record<string, unknown>, entry: TaskEntry): Record<string, unknown> {
    const rewritten: Record<string, unknown> = { ...result };
    if (rewritten.taskId === entry.upstreamId) rewritten.taskId = entry.publicId;
    const task = rewritten.task as { taskId?: unknown } | undefined;
    if (task?.taskId === entry.upstreamId) rewritten.task = { ...task, taskId: entry.publicId };
    const meta = rewritten._meta as Record<string, { taskId?: unknown }> | undefined;
    if (meta?.[RELATED_TASK]?.taskId === entry.upstreamId) {
      rewritten._meta = { ...meta, [RELATED_TASK]: { ...meta[RELATED_TASK], taskId: entry.publicId } };
    }
    return rewritten;
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of [...this.byPublic.values()]) if (entry.expiresAt < now) this.remove(entry);
    while (this.byPublic.size >= MAX_TASKS) {
      const oldest = this.byPublic.values().next().value;
      if (!oldest) break;
      this.remove(oldest);
    }
  }

  private remove(entry: TaskEntry): void {
    this.byPublic.delete(entry.publicId);
    this.byUpstream.delete(keyOf(entry.instance, entry.upstreamId));
  }
}

function keyOf(instance: UpstreamInstance, upstreamId: string): string {
  return `${instance.id}\0${upstreamId}`;
}

/** A task belongs to its session, or to its credential's sessions; anonymous clients are not one person. */
function sameOwner(a: Owner, b: Owner): boolean {
  if (a.group.startsWith('credential:') && a.group === b.group) return true;
  return a.sessionId === b.sessionId;
}
