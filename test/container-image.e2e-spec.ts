import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// No container engine runs here: these checks read the Dockerfile as its builder would, and
// hold it to what the service needs at run time.
const ROOT = join(__dirname, '..');

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** The Dockerfile's instructions, continuation lines joined and comments dropped; `stage` counts FROMs. */
function instructions(): Instruction[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const logical = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  let stage = -1;
  return logical.map((line) => {
    const [op, ...rest] = line.split(/\s+/);
    if (op.toUpperCase() === 'FROM') stage++;
    return { op: op.toUpperCase(), args: rest.join(' '), stage };
  });
}

const exec = (args: string) => JSON.parse(args) as string[];

describe('the container image (Dockerfile, read statically)', () => {
  const all = instructions();
  const last = Math.max(...all.map((i) => i.stage));
  const runtime = all.filter((i) => i.stage === last);
  const one = (op: string) => {
    const found = runtime.filter((i) => i.op === op);
    expect(found).toHaveLength(1);
    return found[0].args;
  };

  it('builds in one stage and runs on a slim Node 22 with production dependencies only', () => {
    const froms = all.filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(froms[last].args).toMatch(/^node:22[\w.-]*-slim\b/);
    const buildRuns = all.filter((i) => i.stage < last && i.op === 'RUN').map((i) => i.args);
    expect(buildRuns.join('\n')).toMatch(/npm ci/);
    expect(buildRuns.join('\n')).toMatch(/npm run build/);
    expect(buildRuns.join('\n')).toMatch(/npm prune --omit=dev/);
    // The runtime stage installs nothing itself: it copies the pruned node_modules and dist.
    expect(
      runtime
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args)
        .join('\n'),
    ).not.toMatch(/npm (ci|install)/);
    const copied = runtime.filter((i) => i.op === 'COPY').map((i) => i.args);
    for (const path of ['/app/node_modules', '/app/dist', '/app/package.json']) {
      expect(copied.some((c) => c.includes('--from=build') && c.includes(path))).toBe(true);
    }
  });

  it('copies only files that exist, and .dockerignore keeps the rest out of the context', () => {
    const sources = all
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1),
      );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(existsSync(join(ROOT, source))).toBe(true);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', '.git', '.env']));
    for (const source of sources) expect(ignored).not.toContain(source);
  });

  it('runs as a non-root user with /app/data as the volume of the embedded store', () => {
    expect(one('USER')).not.toMatch(/^(root|0)(:|$)/);
    expect(exec(one('VOLUME'))).toEqual(['/app/data']);
    expect(one('ENV')).toMatch(/DATA_DIR=\/app\/data/);
    expect(one('ENV')).toMatch(/LOG_LEVEL=info/);
    expect(one('EXPOSE')).toBe('8010');
  });

  it('checks /healthz and hands SIGTERM to node itself, with the flags of npm start', () => {
    const health = one('HEALTHCHECK');
    expect(health).toMatch(/CMD/);
    expect(health).toMatch(/127\.0\.0\.1:8010\/healthz/);
    expect(one('STOPSIGNAL')).toBe('SIGTERM');
    const cmd = exec(one('CMD'));
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } })
      .scripts.start;
    // Exec form, node as PID 1: neither a shell nor npm sits between the signal and the process.
    expect(cmd.join(' ')).toBe(start);
    expect(cmd[0]).toBe('node');
    expect(runtime.some((i) => i.op === 'ENTRYPOINT')).toBe(false);
  });
});
