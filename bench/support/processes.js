// Child-process plumbing shared by the benchmark runners (bench/overhead, bench/sse): starting
// and stopping children, waiting for them to answer, the temporary data directory, and running
// `main` with Ctrl-C handling and cleanup. The runners decide what to start and what to measure.
/* global AbortController */ // Node 20 global; the repository's ESLint config only declares a few.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URL } from 'node:url';

export const HOST = '127.0.0.1';
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const STARTUP_TIMEOUT_MS = 30_000;
// Grace period before SIGKILL; the service is also told to give up on shutdown after 1 s.
const STOP_TIMEOUT_MS = 5_000;
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 };

/** An expected failure: printed as one line, without a stack. */
export class BenchError extends Error {}

/** Aborted on the first SIGINT/SIGTERM (reason: a BenchError with `exitCode`), or by a runner. */
export const interrupt = new AbortController();
const children = new Set();
let tempDir;

export const log = (line) => process.stderr.write(`${line}\n`);

/** The trimmed value of an environment variable; undefined when unset or blank. */
export function envValue(name) {
  const raw = process.env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export function positiveInt(name, fallback) {
  const raw = envValue(name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new BenchError(`${name} must be a positive integer (got ${JSON.stringify(process.env[name])})`);
  }
  return Number(raw);
}

/** Asks the OS for distinct free loopback ports (all held open at once so they differ). */
export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, HOST, resolve);
      });
    }
    return servers.map((server) => server.address().port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(() => resolve()))));
  }
}

/** A fresh directory under the OS temp dir, removed again by the cleanup of `runBench` (and on exit). */
export function makeTempDir(prefix) {
  tempDir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return tempDir;
}

/** One GET without keep-alive, so probes never share a socket with the load. */
export function httpGet(url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

export function isRunning(child) {
  return child.proc.exitCode === null && child.proc.signalCode === null && !child.spawnError;
}

export function describeExit(child) {
  const how = child.spawnError ? child.spawnError.message : `exit ${child.proc.exitCode ?? child.proc.signalCode}`;
  const stderr = child.stderr.trim();
  return `${child.name} stopped (${how})${stderr ? `:\n${stderr}` : ''}`;
}

// Runs `node <entry>` through sh so that the soft open-files limit can be raised first (up to
// the hard limit; a no-op when it is already high enough). `exec` keeps the pid, so the pid of
// the child process is the pid of node (RSS sampling relies on that).
const FD_WRAPPER =
  'want=$1; shift; cur=$(ulimit -S -n); ' +
  'if [ "$cur" != unlimited ] && [ "$cur" -lt "$want" ]; then ulimit -S -n "$want" 2>/dev/null || true; fi; ' +
  'exec "$@"';

/**
 * Starts a Node script; stdout goes to /dev/null, the tail of stderr is kept for error messages.
 * Options: `fds` starts it through sh with the soft open-files limit raised to that many (node
 * is spawned directly without it), `ipc` adds an IPC channel, `nodeFlags` go before `entry`.
 */
export function startChild(name, entry, env, { fds, ipc = false, nodeFlags = [] } = {}) {
  const stdio = ['ignore', 'ignore', 'pipe', ...(ipc ? ['ipc'] : [])];
  const nodeArgs = [...nodeFlags, entry];
  const proc =
    fds === undefined
      ? spawn(process.execPath, nodeArgs, { cwd: ROOT, env, stdio })
      : spawn('/bin/sh', ['-c', FD_WRAPPER, 'sh', String(fds), process.execPath, ...nodeArgs], {
          cwd: ROOT,
          env,
          stdio,
        });
  const child = { name, proc, stderr: '', spawnError: undefined };
  child.exited = new Promise((resolve) => {
    proc.once('exit', resolve);
    proc.once('error', (err) => {
      child.spawnError = err;
      resolve();
    });
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk) => (child.stderr = (child.stderr + chunk).slice(-4_000)));
  children.add(child);
  return child;
}

export async function settlesWithin(promise, ms) {
  return Promise.race([promise.then(() => true), sleep(ms, false, { ref: false })]);
}

async function stopChild(child) {
  if (!isRunning(child)) return;
  child.proc.kill('SIGTERM');
  if (await settlesWithin(child.exited, STOP_TIMEOUT_MS)) return;
  log(`${child.name} ignored SIGTERM for ${STOP_TIMEOUT_MS / 1000} s; killing it`);
  child.proc.kill('SIGKILL');
  await settlesWithin(child.exited, 1_000);
}

/** Polls until `url` answers 200; fails early if the child dies. */
export async function waitForOk(child, url, headers) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    interrupt.signal.throwIfAborted();
    if (!isRunning(child)) throw new BenchError(describeExit(child));
    try {
      const res = await httpGet(url, headers);
      if (res.status === 200) return res;
    } catch {
      // Not listening yet.
    }
    await sleep(100, undefined, { signal: interrupt.signal });
  }
  throw new BenchError(`${child.name} did not answer 200 on ${url} within ${STARTUP_TIMEOUT_MS / 1000} s`);
}

/**
 * Runs `main` (which resolves to the exit code) and exits the process with that code. The first
 * SIGINT/SIGTERM aborts `interrupt` (exit 130/143), a second one exits at once. Children are
 * stopped and the temporary directory removed in every case. `onStop` (optional) stops work the
 * interrupt signal does not reach; it is called on the first SIGINT/SIGTERM and before cleanup.
 */
export async function runBench(main, { onStop } = {}) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (interrupt.signal.aborted) {
        // Second Ctrl-C: no more patience; the exit handler below still kills the children.
        process.exit(SIGNAL_EXIT_CODES[signal]);
      }
      log(`\n${signal} received: stopping`);
      const reason = new BenchError(`interrupted by ${signal}; no figures`);
      reason.exitCode = SIGNAL_EXIT_CODES[signal];
      interrupt.abort(reason);
      onStop?.();
    });
  }

  // Last resort for any path that skips `finally` (process.exit, second Ctrl-C).
  process.on('exit', () => {
    for (const child of children) if (isRunning(child)) child.proc.kill('SIGKILL');
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  });

  let exitCode = 1;
  try {
    exitCode = await main();
  } catch (err) {
    const reason = interrupt.signal.aborted ? interrupt.signal.reason : err;
    log(reason instanceof BenchError ? `bench: ${reason.message}` : `bench: ${reason?.stack ?? String(reason)}`);
    exitCode = interrupt.signal.aborted ? (reason.exitCode ?? 1) : 1;
  } finally {
    onStop?.();
    await Promise.all([...children].map(stopChild));
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    tempDir = undefined;
  }
  process.exit(exitCode);
}

/** The Node flags `npm start` passes before dist/main.js (e.g. the heap limit): run as shipped. */
export function startScriptNodeFlags() {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const words = String(pkg.scripts?.start ?? '').split(/\s+/);
  return words[0] === 'node' ? words.slice(1).filter((w) => w.startsWith('--')) : [];
}

// Benchmarks on one machine measure one at a time: each holds this lock around its measured
// phases (mkdir is atomic: whoever creates the directory holds it).
const LOCK_DIR = path.join(os.tmpdir(), 'command-center-bench.lock.d');
const LOCK_RETRY_MS = 500;
export const LOCK_GIVE_UP_MS = 15 * 60_000;
let lockHeld = false;

/** Takes the measuring lock, waiting for other benchmarks; returns how long it waited (ms). */
export async function acquireLock() {
  const started = Date.now();
  let lastNotice = -Infinity;
  for (;;) {
    interrupt.signal.throwIfAborted();
    try {
      mkdirSync(LOCK_DIR);
      lockHeld = true;
      const waited = Date.now() - started;
      if (waited >= LOCK_RETRY_MS) log(`lock acquired after ${(waited / 1000).toFixed(1)} s`);
      return waited;
    } catch (err) {
      if (err.code !== 'EEXIST') throw new BenchError(`cannot create ${LOCK_DIR}: ${err.message}`);
    }
    const waited = Date.now() - started;
    if (waited >= LOCK_GIVE_UP_MS) {
      throw new BenchError(
        `${LOCK_DIR} still held by another benchmark after ${LOCK_GIVE_UP_MS / 60_000} min ` +
          '(remove it by hand if no benchmark is running)',
      );
    }
    if (waited - lastNotice >= 30_000) {
      lastNotice = waited;
      log(`waiting for ${LOCK_DIR} (another benchmark is measuring)`);
    }
    await sleep(LOCK_RETRY_MS, undefined, { signal: interrupt.signal });
  }
}

/** Gives the lock back if this process holds it; safe to call more than once. */
export function releaseLock() {
  if (!lockHeld) return;
  lockHeld = false;
  try {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  } catch (err) {
    log(`could not remove ${LOCK_DIR}: ${err.message}`);
  }
}
// A path that skips every `finally` (a second Ctrl-C, process.exit) must not leave the lock behind.
process.on('exit', releaseLock);

const RSS_SAMPLE_MS = 500;

/** SIGTERM, then SIGKILL after 5 s (the exit handler's own stop runs only at the very end). */
export async function stopService(child) {
  if (!child || !isRunning(child)) return;
  child.proc.kill('SIGTERM');
  if (await settlesWithin(child.exited, STOP_TIMEOUT_MS)) return;
  log(`${child.name} ignored SIGTERM for ${STOP_TIMEOUT_MS / 1000} s; killing it`);
  child.proc.kill('SIGKILL');
  await settlesWithin(child.exited, 1_000);
}

/** Samples VmRSS of `pid` every 500 ms until stopped; figures in kB. */
export function startRssSampler(pid) {
  const read = () => {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined; // The process is gone; the run will report that.
    }
  };
  const stats = { startKb: read(), peakKb: 0, lastKb: 0, samples: 0 };
  const sample = () => {
    const kb = read();
    if (kb === undefined) return;
    stats.peakKb = Math.max(stats.peakKb, kb);
    stats.lastKb = kb;
    stats.samples++;
  };
  sample();
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  let stopped = false;
  return {
    /** Stops sampling (once) and returns the figures. */
    stop() {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        sample();
      }
      return stats;
    },
  };
}

/** Request/response over a child's IPC channel (startChild with ipc); rejects if it dies or on Ctrl-C. */
let rpcId = 0;
export function rpc(child, cmd, args = {}) {
  return new Promise((resolve, reject) => {
    const id = ++rpcId;
    let settled = false;
    const finish = (fn, value) => {
      if (settled) return;
      settled = true;
      child.proc.off('message', onMessage);
      interrupt.signal.removeEventListener('abort', onAbort);
      fn(value);
    };
    const onMessage = (msg) => msg?.id === id && finish(resolve, msg);
    const onAbort = () => finish(reject, interrupt.signal.reason);
    child.proc.on('message', onMessage);
    interrupt.signal.addEventListener('abort', onAbort);
    void child.exited.then(() => finish(reject, new BenchError(describeExit(child))));
    if (interrupt.signal.aborted) return onAbort();
    child.proc.send({ ...args, id, cmd });
  });
}

/** Waits for a child's first IPC message (its "ready"); fails if it exits or takes too long. */
export async function waitForReady(child) {
  const ready = new Promise((resolve) => child.proc.once('message', resolve));
  const outcome = await Promise.race([
    ready,
    child.exited.then(() => 'exited'),
    sleep(STARTUP_TIMEOUT_MS, 'timeout', { signal: interrupt.signal }),
  ]);
  if (outcome === 'exited') throw new BenchError(describeExit(child));
  if (outcome === 'timeout') throw new BenchError(`${child.name} did not start within ${STARTUP_TIMEOUT_MS / 1000} s`);
}
