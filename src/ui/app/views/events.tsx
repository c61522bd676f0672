import { useEffect, useRef, useState } from 'preact/hooks';
import { openEventStream, query, type StreamEvent, type StreamState } from '../api';
import type { ViewProps } from '../app';
import { Badge, Field, valueOf, when } from '../components';

const KEEP = 200;
const SEVERITIES = ['info', 'warning', 'error', 'critical'];

export function EventsView(_: ViewProps) {
  const [types, setTypes] = useState('');
  const [minSeverity, setMinSeverity] = useState('info');
  const [applied, setApplied] = useState({ types: '', minSeverity: 'info' });
  const [events, setEvents] = useState<StreamEvent[]>([]);
  const [state, setState] = useState<{ state: StreamState; detail?: string }>({ state: 'connecting' });
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState(0);
  const pausedRef = useRef(false);
  const buffer = useRef<StreamEvent[]>([]);

  useEffect(() => {
    setEvents([]);
    const close = openEventStream(
      query({ types: applied.types.replace(/\s+/g, ''), min_severity: applied.minSeverity }),
      (e) => {
        if (pausedRef.current) {
          buffer.current = [e, ...buffer.current].slice(0, KEEP);
          setHeld((n) => n + 1);
        } else setEvents((list) => [e, ...list].slice(0, KEEP));
      },
      (s, detail) => setState({ state: s, detail }),
    );
    return close;
  }, [applied]);

  const togglePause = () => {
    pausedRef.current = !paused;
    if (paused) {
      setEvents((list) => [...buffer.current, ...list].slice(0, KEEP));
      buffer.current = [];
      setHeld(0);
    }
    setPaused(!paused);
  };

  return (
    <>
      <form
        class="filters"
        aria-label="Filter live events"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ types, minSeverity });
        }}
      >
        <Field label="Types" hint="Comma-separated; delivery.* matches a family.">
          <input value={types} onInput={(e) => setTypes(valueOf(e))} placeholder="all types" />
        </Field>
        <Field label="Minimum severity">
          <select value={minSeverity} onChange={(e) => setMinSeverity(valueOf(e))}>
            {SEVERITIES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </Field>
        <div class="filter-actions">
          <button type="submit" class="primary">
            Apply filters
          </button>
          <button type="button" onClick={togglePause} aria-pressed={paused}>
            {paused ? `Resume (${held} new)` : 'Pause'}
          </button>
        </div>
      </form>
      <p class={`state stream-${state.state}`} role="status" data-testid="stream-state">
        {state.state === 'open' &&
          (paused ? 'Connected; the list is paused.' : 'Connected; new events appear at the top.')}
        {state.state === 'connecting' && 'Connecting to the event stream…'}
        {state.state === 'reconnecting' && `Reconnecting: ${state.detail ?? 'the stream dropped'}`}
      </p>
      {events.length === 0 ? (
        <p class="state empty">No events yet. They appear here as they happen.</p>
      ) : (
        <ol class="feed" aria-label="Live events">
          {events.map((e) => (
            <li data-event-id={e.id}>
              <div class="feed-head">
                <Badge value={e.severity} /> <strong>{e.type}</strong>
                {e.tenant_id && <span> · {e.tenant_id}</span>}
                <time dateTime={e.created_at}> {when(e.created_at)}</time>
              </div>
              <div class="feed-body">
                {e.subject && (
                  <span>
                    {e.subject.type} {e.subject.id}
                  </span>
                )}
                {typeof e.data?.message === 'string' && <span> “{e.data.message}”</span>}
              </div>
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
