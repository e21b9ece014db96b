import { DEFAULT_HTTP_TIMEOUT_MS } from '../../constants.js';
import type { Logger } from '../logger.js';
import { redactUrl, scrubSecrets } from '../redact.js';
import { parseModelList, type DiscoveredModel } from './modelList.js';
import { modelsUrlCandidates } from './modelsUrl.js';

export type ModelDiscoveryErrorCode =
  /** 401: the gateway refused the token (the lifecycle may treat it as TOKEN.REJECTED). */
  | 'unauthorized'
  /** 403: the token is valid but lacks the right (scope, audience, role). */
  | 'forbidden'
  | 'not_found'
  /** Any other non-2xx answer. */
  | 'http_error'
  | 'timeout'
  /** The request never got an answer (connection refused, DNS, TLS). */
  | 'network'
  /** 2xx, but not a model list (HTML login page, bad JSON, another shape). */
  | 'invalid_response'
  /** A redirect to another origin: we do not carry the token there. */
  | 'redirect'
  | 'too_large';

/**
 * Model discovery failed. The message names the provider, the status and a redacted URL, never the
 * response body (callers log messages verbatim); a scrubbed preview of the body is in `bodyPreview`.
 */
export class ModelDiscoveryError extends Error {
  override readonly name = 'ModelDiscoveryError';
  readonly code: ModelDiscoveryErrorCode;
  readonly providerId: string;
  readonly status: number | undefined;
  /** Scheme, host and path only. */
  readonly url: string;
  readonly fix: string | undefined;
  /** At most 500 characters of the body, secrets scrubbed. For a log field, never for a message. */
  readonly bodyPreview: string | undefined;

  constructor(init: {
    code: ModelDiscoveryErrorCode;
    providerId: string;
    url: string;
    message: string;
    status?: number;
    fix?: string;
    bodyPreview?: string;
    cause?: unknown;
  }) {
    super(`[${init.providerId}] ${init.message}${init.fix ? ` — ${init.fix}` : ''}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.providerId = init.providerId;
    this.status = init.status;
    this.url = init.url;
    this.fix = init.fix;
    this.bodyPreview = init.bodyPreview;
  }

  toJSON() {
    return {
      code: this.code,
      providerId: this.providerId,
      message: this.message,
      ...(this.status !== undefined ? { status: this.status } : {}),
      url: this.url,
      ...(this.fix ? { fix: this.fix } : {}),
    };
  }
}

export interface FetchModelsOptions {
  url: string;
  providerId: string;
  /** Access token, sent as `Authorization: <tokenType> <bearer>`. */
  bearer?: string;
  /** Defaults to `Bearer`. */
  tokenType?: string;
  /** Extra headers (e.g. a passthrough `x-api-key`); their values are scrubbed from previews too. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /** Covers the whole exchange, body included. Default 15000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Bodies beyond this many bytes are refused. Default 8 MiB. */
  maxBytes?: number;
}

const PREVIEW_CHARS = 500;
const MAX_REDIRECTS = 3;

const FIX_BY_STATUS: Record<number, string> = {
  401: 'the gateway refused the token; check that it accepts tokens from this issuer and audience',
  403: 'the token lacks the right to list models; check the scopes, audience and roles the gateway expects',
  404: 'no model list at this URL; set modelsPath to where the gateway serves it',
};

function codeForStatus(status: number): ModelDiscoveryErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  return 'http_error';
}

async function readBody(response: Response, maxBytes: number): Promise<string | undefined> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/**
 * GET the model list with the provider's credential and parse it.
 * Redirects are followed only within the same origin (the token never leaves for another host).
 * @see https://platform.openai.com/docs/api-reference/models/list
 */
export async function fetchModels(options: FetchModelsOptions): Promise<DiscoveredModel[]> {
  const { providerId } = options;
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const secrets = [options.bearer, ...Object.values(options.headers ?? {})].filter((value): value is string => !!value);
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.bearer) headers.authorization = `${options.tokenType || 'Bearer'} ${options.bearer}`;

  let url = options.url;
  const fail = (init: Omit<ConstructorParameters<typeof ModelDiscoveryError>[0], 'providerId' | 'url'>) =>
    new ModelDiscoveryError({ providerId, url: redactUrl(url), ...init });

  try {
    let response: Response;
    for (let hop = 0; ; hop += 1) {
      response = await doFetch(url, { method: 'GET', headers, signal, redirect: 'manual' });
      if (response.status < 300 || response.status >= 400 || !response.headers.has('location')) break;
      await response.body?.cancel().catch(() => {});
      const next = new URL(response.headers.get('location')!, url);
      if (next.origin !== new URL(url).origin || hop >= MAX_REDIRECTS) {
        throw fail({
          code: 'redirect',
          status: response.status,
          message: `model list redirected (${response.status}) to ${redactUrl(next)}`,
          fix: 'set modelsPath to the final URL; the token is not sent to another origin',
        });
      }
      url = next.toString();
    }

    const text = await readBody(response, maxBytes);
    if (text === undefined) {
      throw fail({ code: 'too_large', status: response.status, message: `model list larger than ${maxBytes} bytes at ${redactUrl(url)}` });
    }
    const preview = () => scrubSecrets(text.slice(0, PREVIEW_CHARS), secrets) || undefined;

    if (!response.ok) {
      const bodyPreview = preview();
      options.logger?.warn('model_discovery_error_body', { providerId, url: redactUrl(url), status: response.status, bodyPreview });
      throw fail({
        code: codeForStatus(response.status),
        status: response.status,
        message: `model discovery failed (${response.status}) at ${redactUrl(url)}`,
        ...(FIX_BY_STATUS[response.status] ? { fix: FIX_BY_STATUS[response.status] } : {}),
        ...(bodyPreview ? { bodyPreview } : {}),
      });
    }

    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const models = body === undefined ? undefined : parseModelList(body);
    if (!models) {
      const bodyPreview = preview();
      options.logger?.warn('model_discovery_error_body', { providerId, url: redactUrl(url), status: response.status, bodyPreview });
      throw fail({
        code: 'invalid_response',
        status: response.status,
        message: `the answer at ${redactUrl(url)} is not a model list (expected JSON {"data": [...]} or an array)`,
        fix: 'check baseURL/modelsPath: a login page or proxy answered instead of the gateway',
        ...(bodyPreview ? { bodyPreview } : {}),
      });
    }
    if (models.length === 0) options.logger?.warn('model_discovery_empty', { providerId, url: redactUrl(url) });
    return models;
  } catch (error) {
    if (error instanceof ModelDiscoveryError) throw error;
    if (timeout.aborted) {
      throw fail({ code: 'timeout', message: `model discovery timed out after ${timeoutMs} ms at ${redactUrl(url)}`, cause: error });
    }
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    throw fail({
      code: 'network',
      message: `model discovery could not reach ${redactUrl(url)} (${error instanceof Error ? error.name : typeof error})`,
      fix: 'check baseURL and the network path to the gateway',
      cause: error,
    });
  }
}

export interface DiscoverModelsOptions extends Omit<FetchModelsOptions, 'url'> {
  baseURL: string;
  modelsPath?: string;
}

/**
 * {@link fetchModels} at `<baseURL>/models`; on 404 (and only then) at the reference plugin's
 * `<baseURL>/v1/models`, when that differs and no `modelsPath` is set. Returns the URL that answered.
 */
export async function discoverModels(options: DiscoverModelsOptions): Promise<{ url: string; models: DiscoveredModel[] }> {
  const { baseURL, modelsPath, ...rest } = options;
  const candidates = modelsUrlCandidates(baseURL, modelsPath);
  for (let index = 0; ; index += 1) {
    const url = candidates[index]!;
    try {
      return { url, models: await fetchModels({ ...rest, url }) };
    } catch (error) {
      const isLast = index === candidates.length - 1;
      if (isLast || !(error instanceof ModelDiscoveryError) || error.code !== 'not_found') throw error;
    }
  }
}
