import { request, type ClientRequest, type IncomingMessage } from 'node:http';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** A real Server-Sent Events client over HTTP: parses frames as a browser would. */
export class SseClient {
  readonly frames: SseFrame[] = [];
  status = 0;
  headers: IncomingMessage['headers'] = {};
  body = '';
  readonly closed: Promise<void>;
  private buffer = '';
  private waiters: (() => void)[] = [];
  private ended = false;
  private req!: ClientRequest;
  private res?: IncomingMessage;

  private constructor(resolveClosed: { resolve?: () => void }) {
    this.closed = new Promise((resolve) => (resolveClosed.resolve = resolve));
  }

  /** Resolves once the response headers arrive (for a non-200, once its body has been read). */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const holder: { resolve?: () => void } = {};
    const client = new SseClient(holder);
    return new Promise((resolve, reject) => {
      client.req = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
        client.res = res;
        client.status = res.statusCode ?? 0;
        client.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => client.onData(chunk));
        res.on('close', () => {
          client.ended = true;
          client.notify();
          holder.resolve?.();
        });
        if (client.status === 200) resolve(client);
        else res.on('end', () => resolve(client));
      });
      client.req.on('error', (err) => {
        client.ended = true;
        client.notify();
        holder.resolve?.();
        if (!client.status) reject(err);
      });
      client.req.end();
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Frames that carry an event (not heartbeats), optionally of one type. */
  events(type?: string): SseFrame[] {
    return this.frames.filter((f) => f.event !== undefined && (type === undefined || f.event === type));
  }

  /** Parsed `data` of the event frames. */
  payloads<T = Record<string, unknown>>(type?: string): T[] {
    return this.events(type).map((f) => JSON.parse(f.data ?? 'null') as T);
  }

  async waitFor(predicate: (frames: SseFrame[]) => boolean, timeoutMs = 5000, what = 'frames'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.frames)) {
      if (this.ended) throw new Error(`stream closed while waiting for ${what}; got ${JSON.stringify(this.frames)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    this.res?.destroy();
    this.req.destroy();
    return this.closed;
  }

  private onData(chunk: string): void {
    this.body += this.status === 200 ? '' : chunk;
    if (this.status !== 200) return;
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame = parseBlock(block);
      if (frame) this.frames.push(frame);
    }
    this.notify();
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

function parseBlock(block: string): SseFrame | null {
  const frame: SseFrame = {};
  let any = false;
  for (const line of block.split('\n')) {
    if (line === '') continue;
    any = true;
    if (line.startsWith(':')) {
      frame.comment = line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') frame.id = value;
    else if (field === 'event') frame.event = value;
    else if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
  }
  return any ? frame : null;
}
