import type { Response } from 'express';
import type { EventFilter } from './event-filter.js';
import type { StoredEvent } from './event.types.js';

/** One open event stream: its filter, what it has been sent, and frames waiting to be written. */
export class SseConnection {
  /** Id of the last event queued for this client. */
  lastSent: number;
  /** While missed events are read from the store, live ones wait here. */
  replaying: boolean;
  readonly held: StoredEvent[] = [];
  private pending: Buffer[] = [];
  /** Bytes queued here (not yet handed to the socket). */
  pendingBytes = 0;
  /** The socket is backed up; frames wait here (as shared buffers) until it drains. */
  waitingForDrain = false;
  closed = false;

  constructor(
    readonly res: Response,
    readonly filter: EventFilter,
    lastEventId: number | undefined,
  ) {
    this.lastSent = lastEventId ?? 0;
    this.replaying = lastEventId !== undefined;
  }

  /** Queues an event unless it was already sent (replay and live overlap by design). */
  enqueue(event: StoredEvent): boolean {
    if (event.id <= this.lastSent) return false;
    this.lastSent = event.id;
    this.enqueueRaw(frameOf(event));
    return true;
  }

  enqueueRaw(frame: Buffer): void {
    this.pending.push(frame);
    this.pendingBytes += frame.length;
  }

  /** Bytes this client has not read yet: ours and the socket's. */
  get unreadBytes(): number {
    return this.pendingBytes + (this.res.socket?.writableLength ?? 0);
  }

  /** The socket holds as much as it should; more would only queue inside Node. */
  get backedUp(): boolean {
    return this.res.socket?.writableNeedDrain ?? false;
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Writes everything queued straight to the socket (the body is close-delimited, see
   * EventStreamService.attach): the frames are shared buffers, and cork/uncork makes them one
   * writev, done before this returns, so nothing per write outlives the call.
   */
  flush(): void {
    const socket = this.res.socket;
    if (!socket || socket.destroyed) return;
    socket.cork();
    for (const frame of this.pending) socket.write(frame);
    socket.uncork();
    this.pending = [];
    this.pendingBytes = 0;
  }
}

const frames = new WeakMap<StoredEvent, Buffer>();

/** The SSE frame of an event, encoded once however many clients receive it. */
export function frameOf(event: StoredEvent): Buffer {
  let frame = frames.get(event);
  if (frame === undefined) {
    const { prev_hash: _prev, hash: _hash, ...visible } = event;
    frame = Buffer.from(`id: ${event.id}\nevent: ${oneLine(event.type)}\ndata: ${JSON.stringify(visible)}\n\n`);
    frames.set(event, frame);
  }
  return frame;
}

export const HEARTBEAT_FRAME = Buffer.from(': heartbeat\n\n');

export function resetFrame(reason: 'events_purged' | 'unknown_event_id', lastEventId: number, head: number): Buffer {
  const data = JSON.stringify({ reason, last_event_id: lastEventId, current_event_id: head });
  return Buffer.from(`event: reset\ndata: ${data}\n\n`);
}

function oneLine(value: string): string {
  return value.replace(/[\r\n]/g, '');
}
