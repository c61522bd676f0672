import { Injectable } from '@nestjs/common';
import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { AppConfig } from '../config/app-config.js';
import { appVersion } from '../health/app-version.js';
import { SsrfGuard } from './ssrf-guard.js';

export type SendErrorKind = 'timeout' | 'dns' | 'connect' | 'tls' | 'ssrf_blocked' | 'http_status';

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  signal?: AbortSignal;
}

export interface SendResult {
  /** null when no HTTP answer arrived. */
  statusCode: number | null;
  /** null on 2xx; 'http_status' for any other answer (redirects are never followed). */
  errorKind: SendErrorKind | null;
  durationMs: number;
  /** At most EXCERPT_BYTES of the response body; null when no HTTP answer arrived. */
  responseExcerpt: string | null;
  retryAfterSeconds: number | null;
  errorMessage: string | null;
}

export const EXCERPT_BYTES = 4096;

/** Raised from the DNS lookup so the refusal surfaces as the request's error. */
class SsrfBlockedError extends Error {
  readonly code = 'ERR_SSRF_BLOCKED';
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENODATA', 'EAI_FAIL', 'EAI_NONAME']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

// Duck-typed rather than instanceof: core errors can come from another realm (Jest's vm sandbox).
interface ErrorLike {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

function errorCode(err: unknown): string | undefined {
  const { code, errors } = (err ?? {}) as ErrorLike;
  if (typeof code === 'string') return code;
  // Happy-eyeballs failures arrive as an AggregateError of one error per address tried.
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0]);
  return undefined;
}

function errorMessage(err: unknown): string {
  const { message } = (err ?? {}) as ErrorLike;
  return typeof message === 'string' && message !== '' ? message : String(err);
}

function classify(err: unknown): SendErrorKind {
  if (err instanceof SsrfBlockedError) return 'ssrf_blocked';
  const code = errorCode(err) ?? '';
  const message = errorMessage(err);
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return 'timeout';
  if (DNS_CODES.has(code)) return 'dns';
  if (CONNECT_CODES.has(code) || /socket hang up/i.test(message)) return 'connect';
  if (
    TLS_CODES.has(code) ||
    /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_)/.test(code) ||
    (code === 'EPROTO' && /ssl|tls/i.test(message))
  ) {
    return 'tls';
  }
  // Anything else failed before an HTTP answer, which for retry purposes is a connection problem.
  return 'connect';
}

/** Seconds from a Retry-After header (delay-seconds or HTTP-date); null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text);
  // Every HTTP-date form starts with a day name; Date.parse alone would take "-5" as a year.
  if (!/^[A-Za-z]{3}/.test(text)) return null;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

/** Sends one webhook attempt; the dispatcher owns retries and bookkeeping. */
@Injectable()
export class WebhookSender {
  private readonly guard: SsrfGuard;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(config: AppConfig) {
    this.guard = new SsrfGuard(config.DELIVERY_ALLOWED_PRIVATE_CIDRS);
    this.timeoutMs = config.DELIVERY_TIMEOUT_MS;
    this.userAgent = `CommandCenter-Webhooks/${appVersion()}`;
  }

  /** Never throws: every failure is reported in the result. */
  async send(request: SendRequest): Promise<SendResult> {
    const started = performance.now();
    try {
      return await this.attempt(request, started);
    } catch (err) {
      return failure(started, classify(err), errorMessage(err));
    }
  }

  private attempt(request: SendRequest, started: number): Promise<SendResult> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return Promise.resolve(failure(started, 'ssrf_blocked', 'invalid URL'));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return Promise.resolve(failure(started, 'ssrf_blocked', `scheme ${url.protocol} is not allowed`));
    }
    // Node connects to IP literals without calling `lookup`, so they are judged here.
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0 && this.guard.isBlocked(host)) {
      return Promise.resolve(failure(started, 'ssrf_blocked', `address ${host} is not allowed`));
    }
    if (request.signal?.aborted) return Promise.resolve(failure(started, 'timeout', 'aborted by caller'));

    const headers: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (!/^(content-type|content-length|user-agent)$/i.test(name)) headers[name] = value;
    }
    headers['Content-Type'] = 'application/json';
    headers['User-Agent'] = this.userAgent;
    // A known length avoids chunked encoding, which some receivers reject.
    headers['Content-Length'] = Buffer.byteLength(request.body);

    return new Promise<SendResult>((resolve) => {
      let settled = false;
      let statusCode: number | null = null;
      let retryAfterSeconds: number | null = null;
      let response: http.IncomingMessage | undefined;
      const chunks: Buffer[] = [];
      let received = 0;

      const settle = (outcome: { errorKind: SendErrorKind | null; errorMessage: string | null }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        // agent: false gives this attempt its own socket, so destroying it cannot hurt anyone else.
        response?.destroy();
        req.destroy();
        resolve({
          statusCode,
          errorKind: outcome.errorKind,
          durationMs: elapsed(started),
          responseExcerpt: statusCode === null ? null : excerpt(chunks),
          retryAfterSeconds,
          errorMessage: outcome.errorMessage,
        });
      };

      // Once an answer has arrived its status decides the outcome; the body is only an excerpt.
      const settleAnswered = () => {
        const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
        settle(
          ok
            ? { errorKind: null, errorMessage: null }
            : { errorKind: 'http_status', errorMessage: `HTTP ${statusCode}` },
        );
      };

      const onAbort = () => {
        if (statusCode !== null) return settleAnswered();
        settle({ errorKind: 'timeout', errorMessage: 'aborted by caller' });
      };

      // Created before the timer: if this throws (say, a bad header value) nothing is left running.
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request(url, {
        method: 'POST',
        headers,
        agent: false,
        lookup: this.guardedLookup,
      });

      // One budget for connect, headers and the excerpt, whatever the server does.
      const timer = setTimeout(() => {
        if (statusCode !== null) return settleAnswered();
        settle({ errorKind: 'timeout', errorMessage: `no answer within ${this.timeoutMs} ms` });
      }, this.timeoutMs);

      req.on('error', (err) => {
        if (statusCode !== null) return settleAnswered();
        settle({ errorKind: classify(err), errorMessage: errorMessage(err) });
      });

      req.on('response', (res) => {
        response = res;
        statusCode = res.statusCode ?? null;
        retryAfterSeconds = parseRetryAfter(res.headers['retry-after']);
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          chunks.push(chunk);
          received += chunk.length;
          // Enough for the excerpt; the rest is never read so a huge body cannot hold the attempt.
          if (received >= EXCERPT_BYTES) settleAnswered();
        });
        res.on('end', settleAnswered);
        res.on('error', settleAnswered);
        res.on('close', settleAnswered);
      });

      request.signal?.addEventListener('abort', onAbort, { once: true });
      req.end(request.body);
    });
  }

  /**
   * Resolves like dns.lookup but refuses when any address is blocked, and connects only to the
   * addresses it checked, so a rebinding DNS answer cannot slip a private address in.
   */
  private readonly guardedLookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (addresses.length === 0) {
        const notFound: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        notFound.code = 'ENOTFOUND';
        return callback(notFound, []);
      }
      const blocked = addresses.find((a) => this.guard.isBlocked(a.address));
      if (blocked) {
        return callback(new SsrfBlockedError(`${hostname} resolves to ${blocked.address}, which is not allowed`), []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

function excerpt(chunks: Buffer[]): string {
  // StringDecoder.write holds back a character cut in half at the limit instead of mangling it.
  return new StringDecoder('utf8').write(Buffer.concat(chunks).subarray(0, EXCERPT_BYTES));
}

function failure(started: number, errorKind: SendErrorKind, errorMessage: string): SendResult {
  return {
    statusCode: null,
    errorKind,
    durationMs: elapsed(started),
    responseExcerpt: null,
    retryAfterSeconds: null,
    errorMessage,
  };
}
