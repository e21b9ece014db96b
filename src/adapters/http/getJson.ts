import { TokenError } from '../../errors.js';
import { redactUrl } from '../redact.js';
import { sendOnce } from './client.js';
import { requireEndpointUrl, resolveHttpEnv, type HttpEnv } from './env.js';
import { errorFromReply } from './oauthErrors.js';
import { requestSecrets } from './requestSecrets.js';
import { isRetryableStatus, parseRetryAfter, sendWithRetry, type FinalReply } from './retry.js';
import { bodyPreview, mediaType } from './responseBody.js';
import type { GetJsonOptions, HttpDeps } from './types.js';

/** A GET through the single retry layer; returns the final reply whatever its status. */
export async function getWithRetry(url: string, options: GetJsonOptions, env: HttpEnv): Promise<FinalReply> {
  const what = options.what ?? 'endpoint';
  return sendWithRetry(
    (signal) => sendOnce(env.client, { method: 'GET', url, ...(options.headers ? { headers: options.headers } : {}) }, signal),
    {
      providerId: options.providerId,
      what,
      url,
      oneShot: false,
      knownSecrets: requestSecrets(undefined, {}, options.headers),
      timeoutMs: options.timeoutMs ?? env.timeoutMs,
      ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    },
    env,
  );
}

/**
 * GET a JSON document with the adapter's rules: no redirects, one retry layer (connection errors,
 * 408/429/5xx, Retry-After, deadline), and errors that name the endpoint (`what`), the status and a
 * scrubbed preview of the body, never the body. For callers outside the token endpoint: the GitHub
 * Actions OIDC token endpoint, a gateway's `/v1/models`.
 * Failure codes: `transient` for retryable statuses and network failures, `protocol` for a body that is
 * not JSON or a redirect, `options.failureCode` (default `protocol`) for any other non-2xx status.
 */
export async function getJson(url: string, options: GetJsonOptions, deps?: HttpDeps | HttpEnv): Promise<unknown> {
  const env = isHttpEnv(deps) ? deps : resolveHttpEnv(deps);
  const what = options.what ?? 'endpoint';
  const target = requireEndpointUrl(url, 'url', options.providerId).href;
  const reply = await getWithRetry(target, options, env);
  const where = `${what} ${redactUrl(target)}`;
  const knownSecrets = requestSecrets(undefined, {}, options.headers);
  if (reply.redirected) throw errorFromReply(reply, { providerId: options.providerId, what, url: target, knownSecrets }, env.now());
  const preview = () => `${mediaType(reply.headers)}: ${bodyPreview(reply.headers, reply.bodyText, 120, knownSecrets)}`;
  if (reply.status < 200 || reply.status >= 300) {
    const retryAfterMs = parseRetryAfter(reply.headers.get('retry-after'), env.now());
    const retryable = isRetryableStatus(reply.status);
    throw new TokenError({
      code: retryable ? 'transient' : options.failureCode ?? 'protocol',
      providerId: options.providerId,
      status: reply.status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      message: `${where} answered HTTP ${reply.status} (${preview()})`,
      fix: retryable ? 'the server is unavailable; try again later' : options.fix,
    });
  }
  try {
    return JSON.parse(reply.bodyText) as unknown;
  } catch {
    throw new TokenError({
      code: 'protocol',
      providerId: options.providerId,
      status: reply.status,
      message: `${where} answered HTTP ${reply.status} with a body that is not JSON (${preview()})`,
      fix: options.fix ?? `check the ${what} URL`,
    });
  }
}

function isHttpEnv(value: HttpDeps | HttpEnv | undefined): value is HttpEnv {
  return value !== undefined && 'client' in value && typeof (value as HttpEnv).client === 'function';
}
