// @ts-check
/**
 * Fault injection for the lab IdP: a Koa middleware in front of oidc-provider's /token and /device/auth that
 * makes it answer like the real IdPs it will never imitate by itself (see lab/README.md for the list),
 * and that counts every request per grant type as the client saw it.
 * @module
 */

/** Grant type URNs, and the short names the lab accepts for them. */
export const GRANT_TYPE = Object.freeze({
  authorizationCode: 'authorization_code',
  refreshToken: 'refresh_token',
  clientCredentials: 'client_credentials',
  deviceCode: 'urn:ietf:params:oauth:grant-type:device_code',
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
});

/** @type {Record<string, string>} */
const SHORT_GRANT_NAMES = {
  device_code: GRANT_TYPE.deviceCode,
  jwt_bearer: GRANT_TYPE.jwtBearer,
  'jwt-bearer': GRANT_TYPE.jwtBearer,
  token_exchange: GRANT_TYPE.tokenExchange,
  'token-exchange': GRANT_TYPE.tokenExchange,
};

/**
 * `device_code` → `urn:ietf:params:oauth:grant-type:device_code`; full names pass through.
 * @param {string} grantType
 */
export function normalizeGrantType(grantType) {
  return SHORT_GRANT_NAMES[grantType] ?? grantType;
}

/**
 * Every fault kind. "Before" faults answer instead of oidc-provider; "after" faults rewrite its success body.
 * @type {readonly FaultKind[]}
 */
export const FAULT_KINDS = Object.freeze([
  'drop_refresh_token',
  'drop_expires_in',
  'expires_in_string',
  'token_type_lower',
  'form_encoded',
  'device_interval',
  'http_503_html',
  'http_429',
  'slow_down',
  'expired_token',
  'access_denied',
  'invalid_client',
  'invalid_grant',
  'error_as_200',
  'hang',
  'delay_ms',
]);

/**
 * @typedef {'drop_refresh_token' | 'drop_expires_in' | 'expires_in_string' | 'token_type_lower' | 'form_encoded'
 *   | 'device_interval' | 'http_503_html' | 'http_429' | 'slow_down' | 'expired_token' | 'access_denied'
 *   | 'invalid_client' | 'invalid_grant' | 'error_as_200' | 'hang' | 'delay_ms'} FaultKind
 */

/**
 * @typedef {'token' | 'device_authorization'} FaultEndpoint
 */

/**
 * A queued fault. It applies to the next request(s) that match `endpoint` and `grantType`, `times` times.
 * @typedef {object} FaultSpec
 * @property {FaultKind} fault
 * @property {string} [grantType] only requests with this grant_type (short names accepted: device_code, jwt_bearer, token_exchange)
 * @property {FaultEndpoint} [endpoint] default: 'device_authorization' for device_interval, else 'token'
 * @property {number} [times] default 1
 * @property {number} [ms] delay_ms: the delay (default 300)
 * @property {number} [retryAfter] http_429: Retry-After seconds (default 1)
 * @property {number} [interval] device_interval: the injected interval (default 1); slow_down: added to the error body
 * @property {string} [error] error_as_200: the error code (default 'bad_verification_code' on device polls, else 'invalid_grant')
 * @property {'json' | 'form'} [format] error_as_200: body format (default 'json')
 */

/**
 * @typedef {object} GrantCounter
 * @property {number} requests every request that reached the endpoint
 * @property {number} successes 200 with a token (or a device authorization)
 * @property {Record<string, number>} errors by `error` code as the client saw it (`http_503`… when the body has none)
 * @property {number} faults how many of the answers were shaped by an injected fault
 */

/** @returns {GrantCounter} */
export function emptyGrantCounter() {
  return { requests: 0, successes: 0, errors: {}, faults: 0 };
}

/** Faults consumed in order of arrival. */
export class FaultQueue {
  /** @type {Array<FaultSpec & { remaining: number, endpoint: FaultEndpoint }>} */
  #queue = [];

  /** @param {FaultSpec} spec */
  add(spec) {
    if (!FAULT_KINDS.includes(spec.fault)) throw new Error(`lab: unknown fault ${String(spec.fault)}`);
    const endpoint = spec.endpoint ?? (spec.fault === 'device_interval' ? 'device_authorization' : 'token');
    const times = spec.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new Error('lab: fault times must be a positive integer');
    this.#queue.push({
      ...spec,
      endpoint,
      remaining: times,
      ...(spec.grantType ? { grantType: normalizeGrantType(spec.grantType) } : {}),
    });
  }

  /**
   * Pop the first fault matching this request.
   * @param {FaultEndpoint} endpoint
   * @param {string} grantType
   * @returns {FaultSpec | undefined}
   */
  take(endpoint, grantType) {
    const index = this.#queue.findIndex(
      (f) => f.endpoint === endpoint && (!f.grantType || f.grantType === grantType),
    );
    if (index < 0) return undefined;
    const fault = /** @type {FaultSpec & { remaining: number }} */ (this.#queue[index]);
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#queue.splice(index, 1);
    return fault;
  }

  clear() {
    this.#queue.length = 0;
  }

  /** @returns {number} queued faults not yet consumed (each counted once, whatever its `times`) */
  get pending() {
    return this.#queue.length;
  }
}

/**
 * @typedef {object} KoaLikeContext
 * @property {string} method
 * @property {string} path
 * @property {number} status
 * @property {any} body
 * @property {string} type
 * @property {import('node:http').IncomingMessage & { body?: unknown }} req
 * @property {(name: string, value: string) => void} set
 */

/**
 * @param {{ queue: FaultQueue, tokenCounters: Record<string, GrantCounter>,
 *   deviceAuthorizationCounter: GrantCounter, deviceInterval: number | undefined,
 *   untilStopped: () => Promise<void>, registeredSecretMethod?: (clientId: string) => string | undefined }} deps
 * @returns {(ctx: KoaLikeContext, next: () => Promise<unknown>) => Promise<void>}
 */
export function tokenEndpointFaultLayer(deps) {
  return async function tokenEndpointFaults(ctx, next) {
    /** @type {FaultEndpoint | undefined} */
    const endpoint =
      ctx.method !== 'POST' ? undefined
        : ctx.path === '/token' ? 'token'
          : ctx.path === '/device/auth' ? 'device_authorization'
            : undefined;
    if (!endpoint) {
      await next();
      return;
    }
    // Read the body here so faults can match on grant_type; oidc-provider accepts a pre-read body
    // (selective_body.js falls back to req.body).
    const raw = await readRaw(ctx.req);
    ctx.req.body = raw;
    const grantType = endpoint === 'token' ? (new URLSearchParams(raw).get('grant_type') ?? '') : '';
    const counter =
      endpoint === 'token' ? counterFor(deps.tokenCounters, grantType) : deps.deviceAuthorizationCounter;
    counter.requests += 1;

    const fault = deps.queue.take(endpoint, grantType);
    if (fault) counter.faults += 1;
    if (fault?.fault === 'delay_ms') await sleep(fault.ms ?? 300);
    if (fault?.fault === 'hang') {
      await deps.untilStopped();
      return;
    }

    const answered = (fault ? answerInstead(ctx, fault, grantType) : false)
      || (deps.registeredSecretMethod ? refuseOtherSecretMethod(ctx, raw, deps.registeredSecretMethod) : false);
    if (!answered) {
      await next();
      if (endpoint === 'device_authorization' && ctx.status === 200 && deps.deviceInterval !== undefined) {
        ctx.body = { ...ctx.body, interval: deps.deviceInterval };
      }
    }
    count(counter, ctx);
    if (!answered && fault && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      rewriteSuccess(ctx, fault);
    }
  };
}

/**
 * @param {Record<string, GrantCounter>} counters
 * @param {string} grantType
 */
function counterFor(counters, grantType) {
  const key = grantType || '(none)';
  counters[key] ??= emptyGrantCounter();
  return /** @type {GrantCounter} */ (counters[key]);
}

/**
 * @param {GrantCounter} counter
 * @param {KoaLikeContext} ctx
 */
function count(counter, ctx) {
  const body = ctx.body;
  const error = body && typeof body === 'object' && typeof body.error === 'string' ? body.error : undefined;
  if (ctx.status === 200 && !error) counter.successes += 1;
  else {
    const code = error ?? `http_${ctx.status}`;
    counter.errors[code] = (counter.errors[code] ?? 0) + 1;
  }
}

/**
 * "Before" faults: answer without oidc-provider.
 * @param {KoaLikeContext} ctx
 * @param {FaultSpec} fault
 * @param {string} grantType
 * @returns {boolean} whether the fault answered
 */
function answerInstead(ctx, fault, grantType) {
  /** @param {number} status @param {string} error @param {string} description @param {Record<string, unknown>} [extra] */
  const oauthError = (status, error, description, extra = {}) => {
    ctx.status = status;
    ctx.body = { error, error_description: description, ...extra };
  };
  switch (fault.fault) {
    case 'http_503_html':
      ctx.status = 503;
      ctx.type = 'text/html';
      ctx.body = '<html><head><title>503 Service Temporarily Unavailable</title></head>'
        + '<body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>lab-proxy</center></body></html>';
      return true;
    case 'http_429':
      ctx.status = 429;
      ctx.set('Retry-After', String(fault.retryAfter ?? 1));
      ctx.type = 'text/plain';
      ctx.body = 'Too Many Requests';
      return true;
    case 'slow_down':
      oauthError(400, 'slow_down', 'polling too fast', fault.interval !== undefined ? { interval: fault.interval } : {});
      return true;
    case 'expired_token':
      oauthError(400, 'expired_token', 'device code expired');
      return true;
    case 'access_denied':
      oauthError(400, 'access_denied', 'End-User denied the authorization request');
      return true;
    case 'invalid_client':
      ctx.set('WWW-Authenticate', 'Basic realm="lab"');
      oauthError(401, 'invalid_client', 'client authentication failed');
      return true;
    case 'invalid_grant':
      oauthError(400, 'invalid_grant', 'grant request is invalid');
      return true;
    case 'error_as_200': {
      const error = fault.error ?? (grantType === GRANT_TYPE.deviceCode ? 'bad_verification_code' : 'invalid_grant');
      const body = { error, error_description: `lab: ${error} answered with HTTP 200` };
      ctx.status = 200;
      if (fault.format === 'form') {
        ctx.type = 'application/x-www-form-urlencoded';
        ctx.body = new URLSearchParams(body).toString();
      } else {
        ctx.body = body;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * oidc-provider 9 accepts client_secret_basic and client_secret_post interchangeably for a client registered
 * with either; strict IdPs (Okta, Entra) do not. The lab is strict, so an adapter that sends the secret the
 * wrong way fails here as it would there.
 * @param {KoaLikeContext} ctx
 * @param {string} raw
 * @param {(clientId: string) => string | undefined} registeredSecretMethod
 * @returns {boolean} whether it answered (401 invalid_client)
 */
function refuseOtherSecretMethod(ctx, raw, registeredSecretMethod) {
  const authorization = ctx.req.headers.authorization ?? '';
  const body = new URLSearchParams(raw);
  /** @type {[string, string] | undefined} */
  let used;
  if (/^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const id = decodeURIComponent((decoded.split(':')[0] ?? '').replace(/\+/g, ' '));
    used = [id, 'client_secret_basic'];
  } else if (body.has('client_secret')) {
    used = [body.get('client_id') ?? '', 'client_secret_post'];
  }
  if (!used) return false;
  const registered = registeredSecretMethod(used[0]);
  if (!registered || registered === used[1]) return false;
  ctx.status = 401;
  if (used[1] === 'client_secret_basic') ctx.set('WWW-Authenticate', 'Basic realm="lab"');
  ctx.body = { error: 'invalid_client', error_description: 'client authentication failed' };
  return true;
}

/**
 * "After" faults: rewrite a successful answer of oidc-provider.
 * @param {KoaLikeContext} ctx
 * @param {FaultSpec} fault
 */
function rewriteSuccess(ctx, fault) {
  const body = { ...ctx.body };
  switch (fault.fault) {
    case 'drop_refresh_token':
      delete body.refresh_token;
      break;
    case 'drop_expires_in':
      delete body.expires_in;
      break;
    case 'expires_in_string':
      if (body.expires_in !== undefined) body.expires_in = String(body.expires_in);
      break;
    case 'token_type_lower':
      if (typeof body.token_type === 'string') body.token_type = body.token_type.toLowerCase();
      break;
    case 'device_interval':
      body.interval = fault.interval ?? 1;
      break;
    case 'form_encoded': {
      ctx.type = 'application/x-www-form-urlencoded';
      ctx.body = new URLSearchParams(
        Object.entries(body).map(([k, v]) => /** @type {[string, string]} */ ([k, String(v)])),
      ).toString();
      return;
    }
    default:
      return;
  }
  ctx.body = body;
}

/**
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<string>}
 */
async function readRaw(req) {
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('lab: token request too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
