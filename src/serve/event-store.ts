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
  /** The message as the JSON text that was written to the client; `{}` for a priming event. */
  text: string;
}

/** A priming event carries no message: nothing to replay. */
const PRIMING = '{}';

/**
 * The events of one Streamable HTTP session, so that a client whose SSE stream dropped mid-call can
 * reconnect with `Last-Event-ID` and receive what it missed (progress, the result). Bounded in count and in
 * bytes: the oldest events go first, and a client asking to resume from one that is gone gets a clear error
 * (it must start the request again) rather than a silent gap. Each event is kept as the JSON text already
 * written, so storing it costs no second serialisation; the rare replay parses it again.
 */
export class SessionEventStore implements EventStore {
  private readonly events = new Map<string, Stored>();
  private bytes = 0;
  private seq = 0;

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    return this.storeText(streamId, JSON.stringify(message));
  }

  /** Stores an event given as the JSON text of its message, for the lean path that writes it in the same turn. */
  storeText(streamId: string, text: string): string {
    const id = `${streamId}|${++this.seq}`;
    this.events.set(id, { streamId, text });
    this.bytes += text.length;
    while (this.events.size > MAX_STORED_EVENTS || this.bytes > MAX_STORED_BYTES) {
      const oldest = this.events.entries().next();
      if (oldest.done) break;
      this.events.delete(oldest.value[0]);
      this.bytes -= oldest.value[1].text.length;
    }
    return id;
  }

  /** A priming event: an id for the client to resume from, with no message. */
  storePriming(streamId: string): string {
    return this.storeText(streamId, PRIMING);
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
      if (after && event.streamId === from.streamId && event.text !== PRIMING)
        await send(id, JSON.parse(event.text) as JSONRPCMessage);
    }
    return from.streamId;
  }
}
