import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * What one session keeps for a client that reconnects with Last-Event-ID: the newest events, this many. Enough
 * that a call's result, kept while its client is away (a server's SEP-1699 polling passed on to the client), is
 * not pushed out by the progress of the session's other calls meanwhile; the bytes bound the memory.
 */
export const MAX_STORED_EVENTS = 1024;
export const MAX_STORED_BYTES = 4 * 1024 * 1024;

interface Stored {
  streamId: string;
  message: JSONRPCMessage;
  bytes: number;
}

/**
 * The events of one Streamable HTTP session, so that a client whose SSE stream dropped mid-call can
 * reconnect with `Last-Event-ID` and receive what it missed (progress, the result). Bounded in count and in
 * bytes: the oldest events go first, and a client asking to resume from one that is gone gets a clear error
 * (it must start the request again) rather than a silent gap.
 */
export class SessionEventStore implements EventStore {
  private readonly events = new Map<string, Stored>();
  private bytes = 0;
  private seq = 0;

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    return this.storeNow(streamId, message);
  }

  /** storeEvent without the promise, for the lean path that writes the event in the same turn. */
  storeNow(streamId: string, message: JSONRPCMessage): string {
    const id = `${streamId}|${++this.seq}`;
    const bytes = JSON.stringify(message).length;
    this.events.set(id, { streamId, message, bytes });
    this.bytes += bytes;
    for (const [oldest, event] of this.events) {
      if (this.events.size <= MAX_STORED_EVENTS && this.bytes <= MAX_STORED_BYTES) break;
      this.events.delete(oldest);
      this.bytes -= event.bytes;
    }
    return id;
  }

  /** Whether a resume from this event can be served. */
  has(eventId: string): boolean {
    return this.events.has(eventId);
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.get(eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const from = this.events.get(lastEventId);
    if (!from) throw new Error(`event ${lastEventId} is no longer stored; start the request again`);
    let after = false;
    for (const [id, event] of this.events) {
      if (id === lastEventId) {
        after = true;
        continue;
      }
      // Priming events carry no message: nothing to replay.
      if (after && event.streamId === from.streamId && Object.keys(event.message).length > 0)
        await send(id, event.message);
    }
    return from.streamId;
  }
}
