import { TokenError, type TokenErrorCode } from '../../errors.js';
import type { Logger } from '../logger.js';
import { redactUrl } from '../redact.js';
import type { HttpReply } from './client.js';
import { classifyNetworkError, describeNetworkFailure, type NetworkFailure } from './networkErrors.js';
import { bodyPreview } from './responseBody.js';
import type { ServerClock } from './serverClock.js';

/**
 * The single retry layer for every request to an authorization server. Nothing above or below retries
 * (ky's own retry is off), so one failing IdP costs at most `maxAttempts` requests, never a product of
 * nested loops.
 * @see anchors-lifecycle.md C5 (one budgeted layer) and C3 (a refresh token is sent at most once)
 */
export const RETRY_POLICY = {
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
  defaultDeadlineMs: 30_000,
  retryableStatuses: [408, 429, 500, 502, 503, 504] as readonly number[],
  /**
   * Statuses that say the request was not acted on: 408/429 from the server itself, 502/503/504 from a
   * proxy or load balancer that could not hand it on (or a server shedding load). On a one-shot request
   * they are answers, not lost answers: the refresh token is still good. Only 500 (and a lost
   * connection) may have come after the server processed the request.
   */
  notProcessedStatuses: [408, 429, 502, 503, 504] as readonly number[],
} as const;

export interface RetryEnv {
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  now: () => number;
  logger: Logger;
  /** Learns each server's clock offset from the `Date` of every answer. */
  serverClock?: ServerClock;
}

export interface RetryContext {
  providerId: string;
  /** Names the endpoint in messages: "token endpoint", "discovery", "revocation endpoint". */
  what: string;
  url: string;
  /**
   * Re-sent only when the failure provably happened before the request left this machine; a failure
   * after that (timeout, reset, 5xx) is a TokenError `uncertain`.
   */
  oneShot: boolean;
  /** What a one-shot request spends, for messages: "the refresh token" (default), "the authorization code". */
  credential?: string;
  /** Per-attempt timeout, ms. */
  timeoutMs: number;
  /** Overall deadline, epoch ms; default now + 30 s. */
  deadline?: number;
  signal?: AbortSignal;
  /** The request's own secret values, scrubbed from any body preview. */
  knownSecrets?: readonly string[];
}

/** The reply that ends the loop, with the start time of the attempt that produced it. */
export interface FinalReply extends HttpReply {
  /** Epoch ms at which the answering attempt started (expiry counts from here). */
  attemptStart: number;
  attempts: number;
}

/** Full jitter: uniform in [0, min(250 ms·2^i, 10 s)). @see AWS "Exponential Backoff And Jitter" */
export function backoffDelay(retryIndex: number, random: () => number): number {
  return random() * Math.min(RETRY_POLICY.baseDelayMs * 2 ** retryIndex, RETRY_POLICY.maxDelayMs);
}

/**
 * `Retry-After` as delay-seconds or an HTTP-date, in ms from `now`, capped at 60 s; undefined if absent
 * or unreadable.
 * @see RFC 9110 §10.2.3
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, RETRY_POLICY.maxRetryAfterMs);
}

export function isRetryableStatus(status: number): boolean {
  return RETRY_POLICY.retryableStatuses.includes(status);
}

/**
 * Sends with at most three attempts inside the deadline. Returns the first non-retryable reply, or the
 * last retryable one when the budget runs out (the caller turns it into an error with its body preview).
 * Throws a TokenError for network failures: `transient` (with `notSent` when nothing left this machine),
 * `timeout`, `config` (TLS), or `uncertain` for a one-shot request that may have reached the server.
 */
export async function sendWithRetry(
  send: (signal: AbortSignal, attempt: number) => Promise<HttpReply>,
  context: RetryContext,
  env: RetryEnv,
): Promise<FinalReply> {
  const deadline = context.deadline ?? env.now() + RETRY_POLICY.defaultDeadlineMs;
  const endpoint = redactUrl(context.url);
  let lastFailure: TokenError | undefined;

  for (let attempt = 0; attempt < RETRY_POLICY.maxAttempts; attempt++) {
    if (context.signal?.aborted) throw cancelledError(context, endpoint);
    const remaining = deadline - env.now();
    if (remaining <= 0) {
      throw lastFailure ?? deadlineError(context, endpoint, attempt, lastFailure);
    }
    const attemptStart = env.now();
    const outcome = await attemptOnce(send, attempt, Math.min(context.timeoutMs, remaining), context.signal);

    let retryAfterMs: number | undefined;
    if ('failure' in outcome) {
      const error = failureToError(outcome.failure, context, endpoint, attempt + 1);
      const retryable = outcome.failure.kind === 'not_sent' || (!context.oneShot && (outcome.failure.kind === 'timeout' || outcome.failure.kind === 'maybe_sent'));
      env.logger.debug('http_attempt_failed', {
        providerId: context.providerId,
        endpoint,
        attempt: attempt + 1,
        reason: outcome.failure.kind,
        ...(outcome.failure.code ? { errorCode: outcome.failure.code } : {}),
      });
      if (!retryable) throw error;
      lastFailure = error;
    } else {
      const reply = outcome.reply;
      env.serverClock?.observe(context.url, reply.headers.get('date'), env.now());
      if (!isRetryableStatus(reply.status)) return { ...reply, attemptStart, attempts: attempt + 1 };
      if (context.oneShot) {
        // Never re-sent: even a "not processed" status is reported, and the caller decides what comes next.
        if (!RETRY_POLICY.notProcessedStatuses.includes(reply.status)) throw uncertainFromStatus(context, endpoint, reply);
        return { ...reply, attemptStart, attempts: attempt + 1 };
      }
      retryAfterMs = parseRetryAfter(reply.headers.get('retry-after'), env.now());
      if (attempt === RETRY_POLICY.maxAttempts - 1) return { ...reply, attemptStart, attempts: attempt + 1 };
      const delayMs = retryAfterMs ?? backoffDelay(attempt, env.random);
      if (env.now() + delayMs >= deadline) return { ...reply, attemptStart, attempts: attempt + 1 };
      env.logger.info('http_retry_scheduled', {
        providerId: context.providerId,
        endpoint,
        attempt: attempt + 1,
        status: reply.status,
        delayMs: Math.round(delayMs),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
      await pause(env, delayMs, context);
      continue;
    }

    if (attempt === RETRY_POLICY.maxAttempts - 1) break;
    const delayMs = backoffDelay(attempt, env.random);
    if (env.now() + delayMs >= deadline) break;
    env.logger.info('http_retry_scheduled', {
      providerId: context.providerId,
      endpoint,
      attempt: attempt + 1,
      reason: lastFailure.code,
      delayMs: Math.round(delayMs),
    });
    await pause(env, delayMs, context);
  }
  throw lastFailure ?? deadlineError(context, endpoint, RETRY_POLICY.maxAttempts, undefined);
}

type AttemptOutcome = { reply: HttpReply } | { failure: NetworkFailure };

async function attemptOnce(
  send: (signal: AbortSignal, attempt: number) => Promise<HttpReply>,
  attempt: number,
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
): Promise<AttemptOutcome> {
  const timeout = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    timeout.abort();
  }, timeoutMs);
  const signal = callerSignal ? AbortSignal.any([timeout.signal, callerSignal]) : timeout.signal;
  try {
    return { reply: await send(signal, attempt) };
  } catch (error) {
    // Our own errors (a bad private key, say) are not network failures: they end the loop as they are.
    if (error instanceof TokenError) throw error;
    return { failure: classifyNetworkError(error, { timedOut, callerAborted: callerSignal?.aborted === true }) };
  } finally {
    clearTimeout(timer);
  }
}

async function pause(env: RetryEnv, delayMs: number, context: RetryContext): Promise<void> {
  try {
    await env.sleep(delayMs, context.signal);
  } catch {
    throw cancelledError(context, redactUrl(context.url));
  }
}

/** The caller cancelled between attempts: nothing is in flight, so nothing is uncertain. */
function cancelledError(context: RetryContext, endpoint: string): TokenError {
  return new TokenError({
    code: 'transient',
    providerId: context.providerId,
    message: `${context.what} ${endpoint}: the request was cancelled before it was sent`,
    notSent: true,
  });
}

function failureToError(failure: NetworkFailure, context: RetryContext, endpoint: string, attempts: number): TokenError {
  const base = { providerId: context.providerId, cause: sanitisedCause(failure) };
  const where = `${context.what} ${endpoint}`;
  const described = describeNetworkFailure(failure);
  if (failure.kind === 'tls') {
    return new TokenError({
      ...base,
      code: 'config',
      notSent: true,
      message: `${where}: ${described}`,
      fix: 'check the server certificate; for a private CA set NODE_EXTRA_CA_CERTS',
    });
  }
  if (failure.kind === 'not_sent') {
    return new TokenError({
      ...base,
      code: 'transient',
      notSent: true,
      message: `${where}: ${described} after ${plural(attempts, 'attempt')}`,
      fix: 'check the URL, DNS and that the server is reachable from here (proxy, VPN)',
    });
  }
  if (context.oneShot) {
    return new TokenError({
      ...base,
      code: 'uncertain',
      message: `${where}: the request was sent but its answer was lost (${described}); ${context.credential ?? 'the refresh token'} may already be spent`,
      fix: 'the engine re-reads the store before anything else; if no newer token is there a new sign-in may be needed',
    });
  }
  if (failure.kind === 'aborted') {
    return new TokenError({ ...base, code: 'transient', message: `${where}: ${described}` });
  }
  return new TokenError({
    ...base,
    code: failure.kind === 'timeout' ? 'timeout' : 'transient',
    message: `${where}: ${described} after ${plural(attempts, 'attempt')}`,
    fix: failure.kind === 'timeout' ? 'the server is slow or hung; raise httpTimeoutMs if it is only slow' : 'try again later',
  });
}

function uncertainFromStatus(context: RetryContext, endpoint: string, reply: HttpReply): TokenError {
  return new TokenError({
    code: 'uncertain',
    providerId: context.providerId,
    status: reply.status,
    message: `${context.what} ${endpoint} answered HTTP ${reply.status} (${bodyPreview(reply.headers, reply.bodyText, 120, context.knownSecrets)}) after the request was sent; ${context.credential ?? 'the refresh token'} may already be spent`,
    fix: 'the engine re-reads the store before anything else; if no newer token is there a new sign-in may be needed',
  });
}

function deadlineError(context: RetryContext, endpoint: string, attempts: number, last: TokenError | undefined): TokenError {
  const code: TokenErrorCode = context.oneShot && attempts > 0 && !last?.notSent ? 'uncertain' : 'timeout';
  return new TokenError({
    code,
    providerId: context.providerId,
    notSent: attempts === 0 || last?.notSent === true,
    message: `${context.what} ${endpoint}: the overall deadline passed after ${plural(attempts, 'attempt')}`,
    fix: 'the server is slow or unreachable; try again later',
  });
}

/** A cause that keeps the failure's kind and code but none of the original error (which holds the request). */
function sanitisedCause(failure: NetworkFailure): Error {
  const cause = new Error(describeNetworkFailure(failure));
  cause.name = 'NetworkFailure';
  if (failure.code) (cause as Error & { code?: string }).code = failure.code;
  return cause;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The default sleep: a timer that rejects when the signal aborts. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
