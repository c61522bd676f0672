import { cloneElement, type ComponentChildren, type VNode } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

export interface Resource<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Loads with `load` whenever `deps` change, and again every `refreshMs` if given. */
export function useResource<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load()
      .then((d) => {
        if (!live) return;
        setData(d);
        setError(null);
      })
      .catch((e: unknown) => live && setError(e instanceof ApiError ? e.detail : String(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(reload, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, reload]);
  return { data, error, loading, reload };
}

/** Loading, error and empty states that say what is going on; the content otherwise. */
export function DataState<T>(props: {
  resource: Resource<T>;
  what: string;
  empty?: (data: T) => boolean;
  emptyText?: string;
  children: (data: T) => ComponentChildren;
}) {
  const { data, error, loading } = props.resource;
  if (error && data === null)
    return (
      <p class="state error" role="alert">
        Could not load {props.what}: {error}
      </p>
    );
  if (data === null)
    return (
      <p class="state loading" aria-live="polite">
        {loading ? `Loading ${props.what}…` : `No ${props.what}`}
      </p>
    );
  return (
    <>
      {error && (
        <p class="state error" role="alert">
          Showing earlier data; refreshing {props.what} failed: {error}
        </p>
      )}
      {props.empty?.(data) ? <p class="state empty">{props.emptyText ?? `No ${props.what}.`}</p> : props.children(data)}
    </>
  );
}

const TONE: Record<string, string> = {
  success: 'good',
  active: 'good',
  healthy: 'good',
  ready: 'good',
  resolved: 'good',
  fired: 'warn',
  info: 'info',
  pending: 'info',
  open: 'bad',
  triaged: 'warn',
  paused: 'warn',
  warning: 'warn',
  degraded: 'warn',
  would_fire: 'info',
  failed: 'bad',
  disabled: 'bad',
  error: 'bad',
  critical: 'bad',
  unavailable: 'bad',
  denied: 'bad',
};

export function Badge(props: { value: string | null | undefined }) {
  const v = props.value ?? 'none';
  return <span class={`badge ${TONE[v] ?? 'neutral'}`}>{v.replaceAll('_', ' ')}</span>;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function percent(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(digits)} %`;
}

/** A small accessible bar chart: SVG bars with a text summary and a table for screen readers. */
export function BarChart(props: {
  title: string;
  points: { label: string; value: number }[];
  format?: (v: number) => string;
  tone?: 'info' | 'bad';
  /** What the caption states (defaults to the last point's value). */
  headline?: string;
}) {
  const format = props.format ?? ((v: number) => String(Math.round(v * 10) / 10));
  const max = Math.max(1, ...props.points.map((p) => p.value));
  const width = 300;
  const height = 90;
  const bar = width / Math.max(1, props.points.length);
  const last = props.points[props.points.length - 1];
  const headline = props.headline ?? (last ? format(last.value) : 'none');
  return (
    <figure class="chart">
      <figcaption>
        {props.title}
        <strong> {headline}</strong>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${props.title}: ${headline}`}>
        {props.points.map((p, i) => {
          const h = (p.value / max) * (height - 4);
          return (
            <rect class={props.tone ?? 'info'} x={i * bar + 1} y={height - h} width={Math.max(1, bar - 2)} height={h}>
              <title>{`${p.label}: ${format(p.value)}`}</title>
            </rect>
          );
        })}
      </svg>
      <table class="visually-hidden">
        <caption>{props.title}</caption>
        <tbody>
          {props.points.map((p) => (
            <tr>
              <th scope="row">{p.label}</th>
              <td>{format(p.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** A modal dialog on the native <dialog>: focus moves in, Escape closes, focus returns. */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    dialog?.showModal();
    return () => {
      dialog?.close();
      opener?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={props.wide ? 'drawer' : 'modal'}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <header class="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" class="ghost" onClick={props.onClose} aria-label="Dismiss">
          ✕
        </button>
      </header>
      {props.children}
    </dialog>
  );
}

/** Asks before an action, runs it, and shows the answer or the error's detail. */
export function Confirm(props: {
  title: string;
  body: ComponentChildren;
  action: string;
  run: () => Promise<string>;
  onDone: () => void;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <div class="dialog-body">{props.body}</div>
      {result && (
        <p class={`state ${result.ok ? 'ok' : 'error'}`} role="status">
          {result.text}
        </p>
      )}
      <footer class="dialog-actions">
        {result?.ok ? (
          <button type="button" onClick={props.onClose}>
            Close
          </button>
        ) : (
          <>
            <button type="button" class="ghost" onClick={props.onClose}>
              Cancel
            </button>
            <button
              type="button"
              class="primary"
              disabled={busy}
              onClick={() => {
                setBusy(true);
                props
                  .run()
                  .then((text) => {
                    setResult({ ok: true, text });
                    props.onDone();
                  })
                  .catch((e: unknown) => setResult({ ok: false, text: e instanceof ApiError ? e.detail : String(e) }))
                  .finally(() => setBusy(false));
              }}
            >
              {busy ? 'Working…' : props.action}
            </button>
          </>
        )}
      </footer>
    </Dialog>
  );
}

export interface CursorPages {
  cursor: string | null;
  page: number;
  next: (cursor: string | null) => void;
  back: () => void;
  reset: () => void;
}

/** The pages visited through a cursor-paged list, so Previous can go back. */
export function useCursorPages(): CursorPages {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return {
    cursor: cursors[cursors.length - 1],
    page: cursors.length,
    next: (c) => setCursors([...cursors, c]),
    back: () => setCursors(cursors.slice(0, -1)),
    reset: () => setCursors([null]),
  };
}

export function Pager(props: { pages: CursorPages; nextCursor: string | null }) {
  const { pages } = props;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={pages.page === 1} onClick={pages.back}>
        Previous page
      </button>
      <span>Page {pages.page}</span>
      <button type="button" disabled={!props.nextCursor} onClick={() => pages.next(props.nextCursor)}>
        Next page
      </button>
    </nav>
  );
}

/** A horizontally scrollable table holder that keyboard users can focus and scroll. */
export function TableWrap(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={props.label}>
      {props.children}
    </div>
  );
}

/** A labelled control: the label names exactly the control, and the hint describes it. */
export function Field(props: { label: string; children: VNode; hint?: string }) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {cloneElement(props.children, { id, 'aria-describedby': props.hint ? hintId : undefined })}
      {props.hint && <small id={hintId}>{props.hint}</small>}
    </div>
  );
}

/** Shorthand for an input's value in an event handler. */
export function valueOf(e: Event): string {
  return (e.currentTarget as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value;
}
