// The dashboard's only way to the service: JSON calls and the live event stream, both carrying
// the caller's identity headers when the page picks them itself (local use without a proxy).

export interface Identity {
  roles: string[];
  tenant_id: string | null;
}

/** Who the page acts as when no auth proxy supplies the headers. */
export interface PickedIdentity {
  roles: string;
  tenant: string;
}

const PICKED_KEY = 'command-center.identity';
let picked: PickedIdentity | null = readPicked();

function readPicked(): PickedIdentity | null {
  try {
    const raw = localStorage.getItem(PICKED_KEY);
    return raw ? (JSON.parse(raw) as PickedIdentity) : null;
  } catch {
    return null;
  }
}

export function pickedIdentity(): PickedIdentity | null {
  return picked;
}

export function setPickedIdentity(next: PickedIdentity | null): void {
  picked = next;
  if (next) localStorage.setItem(PICKED_KEY, JSON.stringify(next));
  else localStorage.removeItem(PICKED_KEY);
}

function identityHeaders(): Record<string, string> {
  if (!picked) return {};
  const headers: Record<string, string> = { 'X-User-Roles': picked.roles };
  if (picked.tenant.trim()) headers['X-User-Tenant'] = picked.tenant.trim();
  return headers;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers: {
        Accept: 'application/json',
        ...identityHeaders(),
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch {
    throw new ApiError(0, 'The service cannot be reached');
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const detail = (body as { detail?: unknown } | null)?.detail;
    throw new ApiError(res.status, typeof detail === 'string' ? detail : `${res.status} ${res.statusText}`);
  }
  return body as T;
}

/** Query string from the set values only. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export interface StreamEvent {
  id: number;
  type: string;
  severity: string;
  tenant_id: string | null;
  subject: { type: string; id: string } | null;
  actor: { kind?: string; roles?: string[]; tenant_id?: string | null } | null;
  data: Record<string, unknown> | null;
  created_at: string;
}

export type StreamState = 'connecting' | 'open' | 'reconnecting';

/**
 * Reads GET /events/stream with fetch (an EventSource cannot send headers) and parses the
 * Server-Sent Events. After a drop it reconnects with Last-Event-ID (the last event seen, or the
 * newest one when the stream opened), so nothing published meanwhile is missed.
 * Returns a function that closes the stream for good.
 */
export function openEventStream(
  params: string,
  onEvent: (event: StreamEvent) => void,
  onState: (state: StreamState, detail?: string) => void,
): () => void {
  const abort = new AbortController();
  let lastId: string | null = null;
  let delay = 1000;
  let attempts = 0;

  const run = async () => {
    // The newest event so far is where "live" starts: a drop before the first event still resumes from it.
    lastId = await api<{ items: { id: number }[] }>('/events/audit?limit=1')
      .then((page) => (page.items[0] ? String(page.items[0].id) : null))
      .catch(() => null);
    while (!abort.signal.aborted) {
      onState(attempts++ === 0 ? 'connecting' : 'reconnecting');
      try {
        const res = await fetch(`/events/stream${params}`, {
          headers: {
            Accept: 'text/event-stream',
            ...identityHeaders(),
            ...(lastId ? { 'Last-Event-ID': lastId } : {}),
          },
          signal: abort.signal,
          cache: 'no-store',
        });
        if (!res.ok || !res.body) {
          const body = (await res.json().catch(() => null)) as { detail?: string } | null;
          throw new ApiError(res.status, body?.detail ?? `${res.status} ${res.statusText}`);
        }
        onState('open');
        delay = 1000;
        await readEvents(res.body, (id, data) => {
          lastId = id ?? lastId;
          try {
            const event = JSON.parse(data) as StreamEvent;
            // A `reset` frame (events after our id were purged) has no type: nothing to show.
            if (typeof event.type === 'string') onEvent(event);
          } catch {
            // not one of ours: ignore
          }
        });
        if (!abort.signal.aborted) onState('reconnecting', 'The stream ended; reconnecting');
      } catch (err) {
        if (abort.signal.aborted) return;
        onState('reconnecting', err instanceof ApiError ? err.detail : 'The stream dropped; reconnecting');
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  };
  void run();
  return () => abort.abort();
}

async function readEvents(body: ReadableStream<Uint8Array>, emit: (id: string | null, data: string) => void) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | null = null;
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length) emit(id, data.join('\n'));
        id = null;
        data = [];
      } else if (line.startsWith(':')) {
        // heartbeat comment
      } else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = val;
        else if (field === 'data') data.push(val);
      }
    }
  }
}
