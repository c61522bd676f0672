import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, pickedIdentity, setPickedIdentity, type Identity } from './api';
import { Field, valueOf } from './components';
import { AnomaliesView } from './views/anomalies';
import { AuditView } from './views/audit';
import { AutohealView } from './views/autoheal';
import { DeliveriesView } from './views/deliveries';
import { EndpointsView } from './views/endpoints';
import { EventsView } from './views/events';
import { OverviewView } from './views/overview';

export interface ViewProps {
  identity: Identity;
  isAdmin: boolean;
}

const VIEWS = [
  { path: 'overview', title: 'Overview', View: OverviewView },
  { path: 'deliveries', title: 'Deliveries', View: DeliveriesView },
  { path: 'endpoints', title: 'Endpoints', View: EndpointsView },
  { path: 'autoheal', title: 'Autoheal', View: AutohealView },
  { path: 'anomalies', title: 'Anomalies', View: AnomaliesView },
  { path: 'events', title: 'Live events', View: EventsView },
  { path: 'audit', title: 'Audit trail', View: AuditView },
] as const;

function currentPath(): string {
  const path = location.hash.replace(/^#\/?/, '').split('?')[0];
  return VIEWS.some((v) => v.path === path) ? path : 'overview';
}

type Session =
  | { state: 'checking' }
  | { state: 'ready'; identity: Identity; local: boolean }
  | { state: 'pick'; reason: string }
  | { state: 'refused'; reason: string };

/** Asks the service who we are: the proxy's headers first, then the identity picked here. */
async function resolveSession(): Promise<Session> {
  try {
    const identity = await api<Identity>('/auth/whoami');
    return { state: 'ready', identity, local: pickedIdentity() !== null };
  } catch (err) {
    // No identity, or a picked one the service refuses (an unknown role, a malformed tenant): ask again.
    if (err instanceof ApiError && (err.status === 403 || (err.status === 400 && pickedIdentity()))) {
      if (pickedIdentity()) setPickedIdentity(null);
      return { state: 'pick', reason: err.detail };
    }
    if (err instanceof ApiError && err.status === 401)
      return { state: 'refused', reason: `${err.detail}. Open the dashboard through the authenticating proxy.` };
    return { state: 'refused', reason: err instanceof ApiError ? err.detail : String(err) };
  }
}

export function App() {
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const [path, setPath] = useState(currentPath());
  const recheck = () => void resolveSession().then(setSession);
  useEffect(() => {
    recheck();
    const onHash = () => setPath(currentPath());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    const view = VIEWS.find((v) => v.path === path);
    document.title = `${view?.title ?? 'Overview'} · Command Center`;
  }, [path]);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <h1>Command Center</h1>
        {session.state === 'ready' && (
          <IdentityBar
            identity={session.identity}
            local={session.local}
            onSwitch={() => {
              setPickedIdentity(null);
              setSession({ state: 'pick', reason: 'Choose who to act as' });
            }}
          />
        )}
      </header>
      {session.state === 'ready' && (
        <nav aria-label="Views" class="tabs">
          <ul>
            {VIEWS.map((v) => (
              <li>
                <a href={`#/${v.path}`} aria-current={v.path === path ? 'page' : undefined}>
                  {v.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <main id="main" tabIndex={-1}>
        {session.state === 'checking' && <p class="state loading">Checking who you are…</p>}
        {session.state === 'refused' && (
          <p class="state error" role="alert">
            {session.reason}
          </p>
        )}
        {session.state === 'pick' && (
          <IdentityPicker
            reason={session.reason}
            onPick={(picked) => {
              setPickedIdentity(picked);
              recheck();
            }}
          />
        )}
        {session.state === 'ready' &&
          VIEWS.filter((v) => v.path === path).map(({ View, title }) => (
            <section aria-labelledby="view-title" key={path}>
              <h2 id="view-title">{title}</h2>
              <View identity={session.identity} isAdmin={session.identity.roles.includes('admin')} />
            </section>
          ))}
      </main>
    </>
  );
}

function IdentityBar(props: { identity: Identity; local: boolean; onSwitch: () => void }) {
  return (
    <div class="identity" aria-label="Signed in as">
      <span data-testid="identity">
        {props.identity.roles.join(', ') || 'no role'}
        {props.identity.tenant_id ? ` · tenant ${props.identity.tenant_id}` : ' · all tenants'}
      </span>
      {props.local && (
        <button type="button" class="ghost" onClick={props.onSwitch}>
          Switch identity
        </button>
      )}
    </div>
  );
}

/** Local use without an auth proxy: the page sends X-User-Roles / X-User-Tenant itself. */
function IdentityPicker(props: { reason: string; onPick: (p: { roles: string; tenant: string }) => void }) {
  const [roles, setRoles] = useState('operator');
  const [tenant, setTenant] = useState('');
  return (
    <form
      class="card picker"
      aria-labelledby="picker-title"
      onSubmit={(e) => {
        e.preventDefault();
        props.onPick({ roles, tenant });
      }}
    >
      <h2 id="picker-title">Choose who to act as</h2>
      <p role="status">
        The service said: <strong>{props.reason}</strong>. Without an authenticating proxy, pick a role; every call then
        carries it in <code>X-User-Roles</code>.
      </p>
      <Field label="Role">
        <select value={roles} onChange={(e) => setRoles(valueOf(e))}>
          <option value="operator">operator</option>
          <option value="admin">admin</option>
        </select>
      </Field>
      <Field label="Tenant (optional)" hint="Confines an operator to one tenant (X-User-Tenant).">
        <input value={tenant} onInput={(e) => setTenant(valueOf(e))} placeholder="all tenants" />
      </Field>
      <button type="submit" class="primary">
        Continue
      </button>
    </form>
  );
}
