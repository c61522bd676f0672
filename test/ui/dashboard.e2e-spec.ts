/// <reference lib="dom" />
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { seedOpenAnomaly } from '../support/anomaly-seed.js';
import { collectPageErrors, describeWithBrowser, launchBrowser, screenshot } from '../support/browser.js';
import { eventually, startDispatching, type DispatchHarness } from '../support/dispatch-harness.js';

// The operator dashboard in a real Chromium against the real service on loopback, which sends
// real webhooks to a real receiver.
const INGEST = { 'X-User-Roles': 'ingest', 'Content-Type': 'application/json' };
const OPERATOR = { 'X-User-Roles': 'operator', 'Content-Type': 'application/json' };
const ADMIN = { 'X-User-Roles': 'admin', 'Content-Type': 'application/json' };
const VIEWS = ['overview', 'deliveries', 'endpoints', 'autoheal', 'anomalies', 'events', 'audit'] as const;

interface Delivery {
  id: string;
  status: string;
  tenant_id: string;
  attempt_count: number;
}

describeWithBrowser('the operator dashboard in Chromium', () => {
  let h: DispatchHarness;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const call = async <T>(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };
  const submit = (tenant: string, path: string, n = 1) =>
    call<{ items: { id: string }[] }>('POST', '/alerts/deliveries/batch', INGEST, {
      items: Array.from({ length: n }, (_, i) => ({
        tenant_id: tenant,
        endpoint_url: `${h.base}${path}`,
        event_type: 'invoice.paid',
        payload: { n: i, tenant },
      })),
    }).then((r) => r.items.map((i) => i.id));
  const delivery = (id: string) => call<Delivery>('GET', `/alerts/deliveries/${id}`, OPERATOR);
  const settled = (id: string) =>
    eventually(
      () => delivery(id),
      (d) => d.status !== 'pending',
      `delivery ${id} to finish`,
    );

  /** A page signed in through the local identity picker, as someone without a proxy would. */
  async function signIn(role: 'operator' | 'admin', tenant = ''): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(8000);
    contexts.push(context);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Choose who to act as' }).waitFor();
    await page.getByLabel('Role', { exact: true }).selectOption(role);
    if (tenant) await page.getByLabel('Tenant (optional)', { exact: true }).fill(tenant);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('identity').getByText(role).waitFor();
    return { page, errors };
  }
  const open = async (page: Page, view: (typeof VIEWS)[number]) => {
    await page
      .getByRole('navigation', { name: 'Views' })
      .getByRole('link', { name: titleOf(view), exact: true })
      .click();
    await page.getByRole('heading', { level: 2, name: titleOf(view) }).waitFor();
  };
  const historyRows = (page: Page) => page.getByRole('table', { name: 'Delivery history' }).locator('tbody tr');

  let failedId: string;
  let pausedUrl: string;

  beforeAll(async () => {
    h = await startDispatching('sqlite', {
      env: {
        AUTOHEAL_ENABLED: 'true',
        AUTOHEAL_INTERVAL_S: '1',
        // One attempt only: a failure is final at once, so the suite can replay it.
        RETRY_SCHEDULE: '0',
        RATE_LIMIT_PER_MINUTE: '0',
      },
    });
    base = await h.t.listen();
    browser = await launchBrowser();

    // Traffic: acme delivers, bulk fills more than one page, globex fails once (then its
    // receiver recovers), hooli fails ten times in a row (autoheal pauses it), initech gets a 410.
    await submit('acme', '/ok', 3);
    await submit('bulk', '/ok', 30);
    h.receiver.failing = true;
    [failedId] = await submit('globex', '/switch');
    expect((await settled(failedId)).status).toBe('failed');
    h.receiver.failing = false;
    await submit('hooli', '/fail', 10);
    pausedUrl = `${h.base}/fail`;
    await eventually(
      () => call<{ items: { endpoint_url: string; kind: string }[] }>('GET', '/autoheal/cooldowns', OPERATOR),
      (c) => c.items.some((i) => i.endpoint_url === pausedUrl && i.kind === 'paused'),
      'the autoheal pause of /fail',
      15000,
    );
    await submit('initech', '/gone');
    await eventually(
      () => call<{ items: Delivery[] }>('GET', '/alerts/deliveries/history?status=pending', OPERATOR),
      (p) => p.items.every((d) => d.tenant_id === 'hooli'),
      'the queue to drain',
    );
    // An open anomaly for the triage scenario.
    await seedOpenAnomaly(h.t.app, 'globex');
  }, 60000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
  });

  it('renders by role: admin-only controls are absent for an operator and present for an admin', async () => {
    const operator = await signIn('operator');
    await open(operator.page, 'autoheal');
    await operator.page.getByRole('table', { name: 'Autoheal rules' }).waitFor();
    await operator.page.getByRole('table', { name: 'Cooldowns' }).waitFor();
    expect(await operator.page.getByRole('button', { name: 'New rule' }).count()).toBe(0);
    expect(await operator.page.getByRole('button', { name: /^Edit/ }).count()).toBe(0);
    expect(await operator.page.getByRole('button', { name: /^Clear cooldown/ }).count()).toBe(0);
    await open(operator.page, 'endpoints');
    await operator.page.getByRole('table', { name: 'Endpoints' }).waitFor();
    expect(await operator.page.getByRole('columnheader', { name: 'Control' }).count()).toBe(0);
    expect(await operator.page.getByRole('button', { name: /^(Pause|Resume|Enable) / }).count()).toBe(0);
    await screenshot(operator.page, 'endpoints-operator');

    const admin = await signIn('admin');
    await open(admin.page, 'autoheal');
    await admin.page.getByRole('button', { name: 'New rule' }).waitFor();
    expect(await admin.page.getByRole('button', { name: /^Edit/ }).count()).toBeGreaterThanOrEqual(2);
    expect(await admin.page.getByRole('button', { name: /^Clear cooldown/ }).count()).toBeGreaterThanOrEqual(1);
    await open(admin.page, 'endpoints');
    await admin.page.getByRole('columnheader', { name: 'Control' }).waitFor();
    await admin.page.getByRole('button', { name: `Enable ${h.base}/gone` }).waitFor();
    await admin.page.getByRole('button', { name: `Resume ${pausedUrl}` }).waitFor();
    await screenshot(admin.page, 'endpoints-admin');
    expect([...operator.errors, ...admin.errors]).toEqual([]);
  });

  it('shows the delivery history and narrows it by tenant, status and time range, with paging', async () => {
    const { page, errors } = await signIn('operator');
    await open(page, 'deliveries');
    await until(() => historyRows(page).count(), 25);
    await page.getByRole('button', { name: 'Next page' }).click();
    await until(() => page.getByText('Page 2').count(), 1);
    expect(await historyRows(page).count()).toBeGreaterThan(0);

    await page.getByLabel('Tenant', { exact: true }).fill('acme');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await until(() => historyRows(page).count(), 3);
    for (const row of await historyRows(page).all()) expect(await row.locator('td').nth(1).textContent()).toBe('acme');

    await page.getByLabel('Tenant', { exact: true }).fill('');
    await page.getByLabel('Status', { exact: true }).selectOption('failed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await until(async () => (await historyRows(page).allTextContents()).some((t) => t.includes('globex')), true);
    for (const row of await historyRows(page).all())
      expect(await row.locator('td').nth(4).textContent()).toBe('failed');
    expect((await historyRows(page).allTextContents()).some((t) => t.includes('initech'))).toBe(true);

    // A window that ends before anything was sent is empty; one around now has them all again.
    const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
    await page.getByLabel('Status', { exact: true }).selectOption('');
    await page.getByLabel('To', { exact: true }).fill(local(new Date(Date.now() - 3_600_000)));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No deliveries match these filters.').waitFor();
    await page.getByLabel('From', { exact: true }).fill(local(new Date(Date.now() - 3_600_000)));
    await page.getByLabel('To', { exact: true }).fill(local(new Date(Date.now() + 3_600_000)));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await until(() => historyRows(page).count(), 25);
    await screenshot(page, 'deliveries');
    expect(errors).toEqual([]);
  });

  it('shows an event published through the API in the live feed within 2 s', async () => {
    const { page, errors } = await signIn('operator');
    await open(page, 'events');
    await page.getByText('Connected; new events appear at the top.').waitFor();
    const message = `ui-feed-${randomUUID()}`;
    const sent = Date.now();
    await call('POST', '/events/annotations', OPERATOR, { message });
    await page.getByRole('list', { name: 'Live events' }).getByText(message).waitFor({ timeout: 2000 });
    expect(Date.now() - sent).toBeLessThan(2000);
    // Paused, the list holds still and counts what arrives; resumed, it shows it.
    await page.getByRole('button', { name: 'Pause' }).click();
    const held = `ui-held-${randomUUID()}`;
    await call('POST', '/events/annotations', OPERATOR, { message: held });
    await page.getByRole('button', { name: /Resume \([1-9]\d* new\)/ }).waitFor();
    expect(await page.getByText(held).count()).toBe(0);
    await page.getByRole('button', { name: /Resume/ }).click();
    await page.getByText(held).waitFor();
    // The type filter reconnects the stream with only that family.
    await page.getByLabel('Types', { exact: true }).fill('delivery.*');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('Connected; new events appear at the top.').waitFor();
    await call('POST', '/events/annotations', OPERATOR, { message: `ui-filtered-${randomUUID()}` });
    await submit('acme', '/flaky-1'); // fails its only attempt: delivery.attempt_failed, delivery.exhausted
    await page
      .getByRole('list', { name: 'Live events' })
      .getByText(/^delivery\./)
      .first()
      .waitFor();
    expect(await page.getByText(/ui-filtered-/).count()).toBe(0);
    await screenshot(page, 'events');
    expect(errors).toEqual([]);
  });

  it('replays a failed delivery with the button, and it succeeds against the receiver', async () => {
    const { page, errors } = await signIn('operator');
    await open(page, 'deliveries');
    await page.getByLabel('Status', { exact: true }).selectOption('failed');
    await page.getByLabel('Tenant', { exact: true }).fill('globex');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('button', { name: `Details of delivery ${failedId}` }).click();
    const drawer = page.getByRole('dialog', { name: `Delivery ${failedId}` });
    await drawer.getByTestId('delivery-status').getByText('failed').waitFor();
    await drawer.getByRole('table', { name: 'Attempts' }).getByText('down').waitFor(); // the receiver's 500 body
    await screenshot(page, 'delivery-detail');
    await drawer.getByRole('button', { name: 'Replay', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Replay this delivery?' });
    await confirm.getByRole('button', { name: 'Replay', exact: true }).click();
    await confirm.getByText('Replay queued').waitFor();
    await confirm.getByRole('button', { name: 'Close', exact: true }).click();
    await drawer.getByTestId('delivery-status').getByText('success').waitFor({ timeout: 10000 });
    expect(await drawer.getByRole('table', { name: 'Attempts' }).locator('tbody tr').count()).toBe(2);
    const hooks = h.receiver.hits('/switch');
    expect(hooks).toHaveLength(2);
    expect(hooks[1].headers['webhook-id']).toBe(hooks[0].headers['webhook-id']);
    expect((await delivery(failedId)).status).toBe('success');
    expect(errors).toEqual([]);
  });

  it('triages an anomaly, refusing an empty note', async () => {
    const { page, errors } = await signIn('operator');
    await open(page, 'anomalies');
    await page.getByRole('button', { name: 'Triage failure_spike of globex' }).click();
    const dialog = page.getByRole('dialog', { name: 'Triage failure spike of globex' });
    await dialog.getByRole('button', { name: 'Save triage' }).click();
    await dialog.getByRole('alert').getByText('A note is required').waitFor();
    await dialog.getByLabel('Note (required)', { exact: true }).fill('receiver returns 500 since their deploy');
    await dialog.getByRole('button', { name: 'Save triage' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.getByRole('table', { name: 'Anomalies' }).locator('tbody tr', { hasText: 'globex' });
    await row.getByText('triaged').waitFor();
    await row.getByText('receiver returns 500 since their deploy').waitFor();
    const current = await call<{ items: { status: string; triage_note: string }[] }>(
      'GET',
      '/anomalies/current',
      OPERATOR,
    );
    expect(current.items[0]).toMatchObject({
      status: 'triaged',
      triage_note: 'receiver returns 500 since their deploy',
    });
    await screenshot(page, 'anomalies');
    expect(errors).toEqual([]);
  });

  it('lets an admin clear a cooldown, which resumes the paused endpoint', async () => {
    const { page, errors } = await signIn('admin');
    await open(page, 'autoheal');
    await page
      .getByRole('table', { name: 'Autoheal decisions' })
      .getByText('pause-after-10-consecutive-failures')
      .first()
      .waitFor();
    await screenshot(page, 'autoheal-admin');
    await page
      .getByRole('button', { name: `Clear cooldown of ${pausedUrl}` })
      .first()
      .click();
    const confirm = page.getByRole('dialog', { name: "Clear this endpoint's cooldown?" });
    await confirm.getByRole('button', { name: 'Clear cooldown' }).click();
    await confirm.getByText('Cleared and resumed the endpoint.').waitFor();
    await confirm.getByRole('button', { name: 'Close', exact: true }).click();
    await until(() => page.getByRole('button', { name: `Clear cooldown of ${pausedUrl}` }).count(), 0);
    const endpoints = await call<{ items: { url: string; state: string }[] }>(
      'GET',
      '/alerts/endpoints?tenant_id=hooli',
      OPERATOR,
    );
    expect(endpoints.items.find((e) => e.url === pausedUrl)?.state).toBe('active');
    const audit = await call<{ items: { type: string }[] }>('GET', '/events/audit?type=audit.*&limit=20', ADMIN);
    expect(audit.items.map((e) => e.type)).toContain('audit.autoheal.clear_endpoint_cooldown');
    expect(errors).toEqual([]);
  });

  it('lets an admin pause and resume an endpoint, and create and edit a rule', async () => {
    const { page, errors } = await signIn('admin');
    await open(page, 'endpoints');
    const okUrl = `${h.base}/ok`;
    await page
      .getByRole('button', { name: `Pause ${okUrl}` })
      .first()
      .click();
    let confirm = page.getByRole('dialog', { name: 'Pause this endpoint?' });
    await confirm.getByRole('button', { name: 'Pause', exact: true }).click();
    await confirm.getByText('The endpoint is paused now.').waitFor();
    await confirm.getByRole('button', { name: 'Close', exact: true }).click();
    await page
      .getByRole('button', { name: `Resume ${okUrl}` })
      .first()
      .click();
    confirm = page.getByRole('dialog', { name: 'Resume this endpoint?' });
    await confirm.getByRole('button', { name: 'Resume', exact: true }).click();
    await confirm.getByText('The endpoint is active now.').waitFor();
    await confirm.getByRole('button', { name: 'Close', exact: true }).click();

    await open(page, 'autoheal');
    await page.getByRole('button', { name: 'New rule' }).click();
    let editor = page.getByRole('dialog', { name: 'New rule' });
    await editor.getByLabel('Name', { exact: true }).fill('ui-slow-endpoints');
    await editor.getByLabel('Trigger metric', { exact: true }).selectOption('latency_p95_ms');
    await editor.getByLabel('Threshold', { exact: true }).fill('-1');
    await editor.getByRole('button', { name: 'Save rule' }).click();
    // The API's detail names the bad field; nothing is stored.
    await editor
      .getByRole('alert')
      .getByText(/trigger\.threshold/)
      .waitFor();
    await editor.getByLabel('Threshold', { exact: true }).fill('2500');
    await editor.getByLabel('Dry run (record only)', { exact: true }).check();
    await editor.getByRole('button', { name: 'Save rule' }).click();
    await editor.waitFor({ state: 'detached' });
    const row = page
      .getByRole('table', { name: 'Autoheal rules' })
      .locator('tbody tr', { hasText: 'ui-slow-endpoints' });
    await row.getByText('dry run').waitFor();
    await row.getByRole('button', { name: 'Edit ui-slow-endpoints' }).click();
    editor = page.getByRole('dialog', { name: 'Edit rule ui-slow-endpoints' });
    await editor.getByLabel('Dry run (record only)', { exact: true }).uncheck();
    await editor.getByRole('button', { name: 'Save rule' }).click();
    await editor.waitFor({ state: 'detached' });
    await row.getByText('active').waitFor();
    const rules = await call<{
      items: { name: string; dry_run: boolean; version: number; trigger: { threshold: number } }[];
    }>('GET', '/autoheal/rules', OPERATOR);
    expect(rules.items.find((r) => r.name === 'ui-slow-endpoints')).toMatchObject({
      dry_run: false,
      version: 2,
      trigger: { threshold: 2500 },
    });
    expect(errors).toEqual([]);
  });

  it('asks again, with the service’s reason, when the picked identity is refused', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${base}/ui/`);
    await page.getByRole('status').getByText('Missing or invalid X-User-Roles header').waitFor();
    await page.getByLabel('Tenant (optional)', { exact: true }).fill('not a tenant!');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page
      .getByRole('status')
      .getByText(/X-User-Tenant/)
      .waitFor();
    await page.getByRole('heading', { name: 'Choose who to act as' }).waitFor();
    await page.getByLabel('Tenant (optional)', { exact: true }).fill('acme');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('identity').getByText('operator · tenant acme').waitFor();
    // A tenant-scoped operator sees only that tenant's deliveries.
    await open(page, 'deliveries');
    await until(async () => (await historyRows(page).allTextContents()).length > 0, true);
    for (const row of await historyRows(page).all()) expect(await row.locator('td').nth(1).textContent()).toBe('acme');
  });

  it('resumes the live feed after a network drop without missing what was published meanwhile', async () => {
    const { page, errors } = await signIn('operator');
    await open(page, 'events');
    await page.getByText('Connected; new events appear at the top.').waitFor();
    // Offline, then the connection is cut (as a proxy or a restart would): reconnecting fails until online again.
    await page.context().setOffline(true);
    h.t.app.getHttpServer().closeAllConnections();
    await page
      .getByTestId('stream-state')
      .getByText(/Reconnecting/)
      .waitFor({ timeout: 15000 });
    const during = `ui-during-drop-${randomUUID()}`;
    await call('POST', '/events/annotations', OPERATOR, { message: during });
    await page.context().setOffline(false);
    // Published while no stream was connected: only Last-Event-ID on reconnect can bring it.
    await page.getByRole('list', { name: 'Live events' }).getByText(during).waitFor({ timeout: 20000 });
    expect(await page.getByText(during).count()).toBe(1);
    expect(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|network/i.test(e))).toEqual([]);
  }, 45000);

  it('works by keyboard: a skip link, tab order through the views, Escape closes a dialog', async () => {
    const { page } = await signIn('operator');
    // A fresh load, so the first Tab starts at the top of the page, not where the picker's button was.
    await page.reload();
    await page.getByTestId('identity').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.goto(`${base}/ui/#/deliveries`);
    await page
      .getByRole('button', { name: /^Details of delivery/ })
      .first()
      .focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  });

  it('has no serious or critical accessibility violations in any view, wide or narrow', async () => {
    const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    const { page, errors } = await signIn('admin');
    const found: string[] = [];
    for (const [width, suffix] of [
      [1280, ''],
      [390, '-narrow'],
    ] as const) {
      await page.setViewportSize({ width, height: 800 });
      for (const view of VIEWS) {
        await page.goto(`${base}/ui/#/${view}`);
        await page.getByRole('heading', { level: 2, name: titleOf(view) }).waitFor();
        await page.waitForLoadState('networkidle').catch(() => undefined);
        await page
          .locator('.state.loading')
          .first()
          .waitFor({ state: 'detached', timeout: 5000 })
          .catch(() => undefined);
        await screenshot(page, `${view}${suffix}`);
        // Evaluated through the DevTools protocol, which the page's CSP (no inline scripts) does not govern.
        await page.evaluate(axeSource);
        const violations = await page.evaluate(async () => {
          const axe = (
            window as unknown as {
              axe: {
                run: (
                  ctx: Document,
                ) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }>;
              };
            }
          ).axe;
          const result = await axe.run(document);
          return result.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            targets: v.nodes.map((n) => n.target.join(' ')),
          }));
        });
        for (const v of violations)
          if (v.impact === 'serious' || v.impact === 'critical')
            found.push(`${view}${suffix}: ${v.id} (${v.impact}) ${v.targets.slice(0, 3).join(', ')}`);
      }
    }
    expect(found).toEqual([]);
    expect(errors).toEqual([]);
  }, 90000);
});

/** Polls `probe` (a page read) until it equals `expected`, for up to 5 s. */
async function until<T>(probe: () => Promise<T>, expected: T): Promise<void> {
  await eventually(probe, (v) => v === expected, `the page to show ${JSON.stringify(expected)}`, 5000);
}

function titleOf(view: (typeof VIEWS)[number]): string {
  return {
    overview: 'Overview',
    deliveries: 'Deliveries',
    endpoints: 'Endpoints',
    autoheal: 'Autoheal',
    anomalies: 'Anomalies',
    events: 'Live events',
    audit: 'Audit trail',
  }[view];
}
