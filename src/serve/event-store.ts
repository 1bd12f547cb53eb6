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
  id: string;
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
 * written, so storing it costs no second serialisation; the rare replay parses it again. The events sit in a ring
 * by their sequence number, which ends every event id: storing one evicts in constant time, with no map to churn.
 */
export class SessionEventStore implements EventStore {
  private readonly ring: (Stored | undefined)[] = new Array<Stored | undefined>(MAX_STORED_EVENTS).fill(undefined);
  private bytes = 0;
  /** The sequence number of the newest event, and of the oldest still stored. */
  private seq = 0;
  private oldest = 1;

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    return this.storeText(streamId, JSON.stringify(message));
  }

  /** Stores an event given as the JSON text of its message, for the lean path that writes it in the same turn. */
  storeText(streamId: string, text: string): string {
    const seq = ++this.seq;
    const id = `${streamId}|${seq}`;
    // The place is the oldest event's once the ring is full: it goes first.
    if (seq - this.oldest >= MAX_STORED_EVENTS) this.evictOldest();
    this.ring[seq % MAX_STORED_EVENTS] = { id, streamId, text };
    this.bytes += text.length;
    while (this.bytes > MAX_STORED_BYTES && this.oldest <= seq) this.evictOldest();
    return id;
  }

  /** A priming event: an id for the client to resume from, with no message. */
  storePriming(streamId: string): string {
    return this.storeText(streamId, PRIMING);
  }

  /** Whether a resume from this event can be served. */
  has(eventId: string): boolean {
    return this.find(eventId) !== undefined;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.find(eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const from = this.find(lastEventId);
    if (!from) throw new Error(`event ${lastEventId} is no longer stored; start the request again`);
    for (let seq = sequenceOf(lastEventId) + 1; seq <= this.seq; seq++) {
      const event = this.ring[seq % MAX_STORED_EVENTS];
      if (event && event.streamId === from.streamId && event.text !== PRIMING)
        await send(event.id, JSON.parse(event.text) as JSONRPCMessage);
    }
    return from.streamId;
  }

  private find(id: string): Stored | undefined {
    const seq = sequenceOf(id);
    if (!(seq >= this.oldest && seq <= this.seq)) return undefined;
    const event = this.ring[seq % MAX_STORED_EVENTS];
    return event?.id === id ? event : undefined;
  }

  private evictOldest(): void {
    const place = this.oldest % MAX_STORED_EVENTS;
    const event = this.ring[place];
    if (event) this.bytes -= event.text.length;
    this.ring[place] = undefined;
    this.oldest++;
  }
}

/** The sequence number that ends an event id (`<stream>|<seq>`); NaN for anything else. */
function sequenceOf(id: string): number {
  const bar = id.lastIndexOf('|');
  if (bar === -1) return NaN;
  const digits = id.slice(bar + 1);
  return /^[1-9]\d{0,15}$/.test(digits) ? Number(digits) : NaN;
}
