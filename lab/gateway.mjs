// @ts-check
/**
 * The lab model gateway: OpenAI-compatible /v1/models and /v1/chat/completions on 127.0.0.1 that checks
 * EVERY bearer, either by RFC 7662 introspection at the lab IdP or (passthrough mode, like the goose OIDC
 * proxy) by validating a CI OIDC JWT itself against the CI issuer's JWKS.
 * @module
 */
import http from 'node:http';
import * as jose from 'jose';
import { trustedIssuer } from './trusted-issuer.mjs';
import { bearerFrom, closeServer, listenOnLoopback, parseJsonLoose, readBodyText, sendJson } from './http.mjs';

/**
 * @typedef {object} IntrospectionSource the part of an Idp the gateway needs
 * @property {string} introspectionEndpoint
 * @property {{ gateway: { client_id: string, client_secret?: string } }} clients
 */

/**
 * @typedef {object} PassthroughOptions
 * @property {string | { issuer: string, jwksUri?: string }} issuer the CI issuer (URL or a CiIssuer)
 * @property {string | string[]} audience accepted `aud`
 * @property {'authorization' | 'x-api-key'} [header] where the JWT arrives (default authorization: Bearer)
 * @property {number} [maxAgeSec] reject tokens issued longer ago than this (default 3600)
 */

/**
 * @typedef {object} GatewayOptions
 * @property {IntrospectionSource} [idp] introspect bearers here (required unless passthrough)
 * @property {Array<string | { id: string, owned_by?: string }>} [models] default ['lab-model']
 * @property {PassthroughOptions} [passthrough] validate CI JWTs directly instead of introspecting
 * @property {string} [requiredScope] introspected tokens must carry this scope
 * @property {Record<string, Record<string, unknown>>} [toolArguments] arguments the model sends for CALLTOOL:<name> (default {})
 */

/**
 * @typedef {object} GatewayRequest one line of the request log (never the token)
 * @property {number} t
 * @property {string} method
 * @property {string} path
 * @property {string | undefined} model
 * @property {boolean} authorized
 * @property {string | undefined} client_id
 * @property {string | undefined} sub
 * @property {number} status
 * @property {string} [reason] why a request was refused
 * @property {boolean} [stream]
 * @property {string} [toolCall] tool the model asked for
 */

/**
 * @typedef {object} GatewayCounters
 * @property {number} requests
 * @property {number} authorized
 * @property {number} unauthorized
 * @property {number} introspections
 * @property {number} chatCompletions
 * @property {number} modelLists
 */

/**
 * @typedef {object} Gateway
 * @property {string} url `http://127.0.0.1:<port>`
 * @property {string} baseURL `http://127.0.0.1:<port>/v1` (what OpenAI-compatible clients take)
 * @property {number} port
 * @property {string[]} models
 * @property {GatewayRequest[]} requests
 * @property {GatewayCounters} counters
 * @property {() => void} resetLog clears requests and counters
 * @property {(count?: number) => void} rejectNext answer 401 to the next `count` requests even with a valid token
 * @property {() => Promise<void>} stop
 */

/**
 * @typedef {{ ok: true, sub: string | undefined, clientId: string | undefined }
 *   | { ok: false, reason: string }} AuthResult
 */

/**
 * Start the gateway.
 * @param {GatewayOptions} options
 * @returns {Promise<Gateway>}
 */
export async function startGateway(options) {
  if (!options.idp && !options.passthrough) throw new Error('lab gateway: give `idp` (introspection) or `passthrough`');
  const models = (options.models ?? ['lab-model']).map((m) => (typeof m === 'string' ? { id: m } : m));
  /** @type {GatewayRequest[]} */
  const requests = [];
  const counters = freshCounters();
  let forcedRejections = 0;
  const passthrough = options.passthrough ? passthroughVerifier(options.passthrough) : undefined;

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, openAiError('lab gateway internal error', 'server_error', null));
      else res.destroy();
    });
  });
  const port = await listenOnLoopback(server);
  const url = `http://127.0.0.1:${port}`;

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  async function handle(req, res) {
    const path = new URL(req.url ?? '/', url).pathname;
    if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { ok: true });
    const isModels = req.method === 'GET' && /^(\/v1)?\/models$/.test(path);
    const isChat = req.method === 'POST' && /^(\/v1)?\/chat\/completions$/.test(path);
    const body = req.method === 'POST' ? parseJsonLoose(await readBodyText(req)) : undefined;
    const model = typeof body?.model === 'string' ? body.model : undefined;
    counters.requests += 1;
    /** @type {GatewayRequest} */
    const entry = { t: Date.now(), method: req.method ?? '', path, model, authorized: false,
      client_id: undefined, sub: undefined, status: 0 };
    requests.push(entry);
    /** @param {number} status @param {unknown} payload @param {Record<string, string>} [headers] */
    const answer = (status, payload, headers) => {
      entry.status = status;
      sendJson(res, status, payload, headers);
    };

    if (!isModels && !isChat) return answer(404, openAiError(`Unknown request URL: ${req.method} ${path}`, 'invalid_request_error', 'unknown_url'));

    const auth = await authenticate(req);
    if (!auth.ok) {
      counters.unauthorized += 1;
      entry.reason = auth.reason;
      return answer(401, openAiError('Incorrect API key provided: the bearer token is invalid, expired or revoked.',
        'invalid_request_error', 'invalid_api_key'), { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    counters.authorized += 1;
    Object.assign(entry, { authorized: true, client_id: auth.clientId, sub: auth.sub });

    if (isModels) {
      counters.modelLists += 1;
      return answer(200, {
        object: 'list',
        data: models.map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.owned_by ?? 'lab' })),
      });
    }

    counters.chatCompletions += 1;
    if (!model || !models.some((m) => m.id === model)) {
      return answer(404, openAiError(`The model '${model ?? ''}' does not exist`, 'invalid_request_error', 'model_not_found'));
    }
    entry.stream = body?.stream === true;
    const messages = Array.isArray(body?.messages) ? body.messages : [];
    const toolName = requestedTool(messages, body?.tools);
    if (toolName) entry.toolCall = toolName;
    const toolResult = messages.find((/** @type {any} */ m) => m?.role === 'tool');
    const caller = `sub=${auth.sub ?? '-'} client=${auth.clientId ?? '-'}`;
    const text = toolResult
      ? `Tool said: ${typeof toolResult.content === 'string' ? toolResult.content : JSON.stringify(toolResult.content)}`
      : `Hello from the lab gateway (model ${model}); ${caller}`;
    entry.status = 200;
    const reply = { id: `chatcmpl-lab-${counters.chatCompletions}`, created: Math.floor(Date.now() / 1000), model };
    const toolCall = toolName
      ? { id: 'call_lab_1', type: 'function',
        function: { name: toolName, arguments: JSON.stringify(options.toolArguments?.[toolName] ?? {}) } }
      : undefined;
    if (entry.stream) return streamReply(res, reply, text, toolCall, body?.stream_options?.include_usage === true);
    return sendJson(res, 200, {
      ...reply,
      object: 'chat.completion',
      choices: [{
        index: 0,
        message: toolCall ? { role: 'assistant', content: null, tool_calls: [toolCall] } : { role: 'assistant', content: text },
        finish_reason: toolCall ? 'tool_calls' : 'stop',
      }],
      usage: USAGE,
    });
  }

  /**
   * @param {http.IncomingMessage} req
   * @returns {Promise<AuthResult>}
   */
  async function authenticate(req) {
    const header = passthrough?.header ?? 'authorization';
    const raw = req.headers[header];
    const value = typeof raw === 'string' ? raw : undefined;
    const token = header === 'authorization' ? bearerFrom(value) : value?.trim() || undefined;
    if (!token) return { ok: false, reason: 'missing_token' };
    if (forcedRejections > 0) {
      forcedRejections -= 1;
      return { ok: false, reason: 'forced_rejection' };
    }
    if (passthrough) return passthrough.verify(token);
    return introspectBearer(/** @type {IntrospectionSource} */ (options.idp), token);
  }

  /**
   * @param {IntrospectionSource} idp
   * @param {string} token
   * @returns {Promise<AuthResult>}
   */
  async function introspectBearer(idp, token) {
    counters.introspections += 1;
    const { client_id: id, client_secret: secret = '' } = idp.clients.gateway;
    const encode = (/** @type {string} */ s) => encodeURIComponent(s).replace(/%20/g, '+');
    let result;
    try {
      const res = await fetch(idp.introspectionEndpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) return { ok: false, reason: `introspection_http_${res.status}` };
      result = /** @type {Record<string, any>} */ (await res.json());
    } catch {
      return { ok: false, reason: 'introspection_unreachable' };
    }
    if (result.active !== true) return { ok: false, reason: 'inactive' };
    // A refresh token is active too, but it is no bearer credential (it has no token_type).
    if (typeof result.token_type !== 'string') return { ok: false, reason: 'not_an_access_token' };
    if (typeof result.exp === 'number' && result.exp <= Math.floor(Date.now() / 1000)) return { ok: false, reason: 'expired' };
    if (options.requiredScope && !String(result.scope ?? '').split(' ').includes(options.requiredScope)) {
      return { ok: false, reason: 'insufficient_scope' };
    }
    return { ok: true, sub: result.sub, clientId: result.client_id };
  }

  return {
    url,
    baseURL: `${url}/v1`,
    port,
    models: models.map((m) => m.id),
    requests,
    counters,
    resetLog() {
      requests.length = 0;
      Object.assign(counters, freshCounters());
    },
    rejectNext(count = 1) {
      forcedRejections += count;
    },
    stop: () => closeServer(server),
  };
}

const USAGE = Object.freeze({ prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 });

/** @returns {GatewayCounters} */
function freshCounters() {
  return { requests: 0, authorized: 0, unauthorized: 0, introspections: 0, chatCompletions: 0, modelLists: 0 };
}

/**
 * OpenAI's error body shape.
 * @param {string} message @param {string} type @param {string | null} code
 */
function openAiError(message, type, code) {
  return { error: { message, type, param: null, code } };
}

/**
 * The tool named by `CALLTOOL:<name>` in the last user message, when the request offers that tool
 * and no tool result is in the conversation yet (the model asks once, then answers with the output).
 * @param {any[]} messages
 * @param {unknown} tools
 * @returns {string | undefined}
 */
function requestedTool(messages, tools) {
  if (messages.some((m) => m?.role === 'tool')) return undefined;
  const lastUser = [...messages].reverse().find((m) => m?.role === 'user');
  const text = typeof lastUser?.content === 'string' ? lastUser.content : JSON.stringify(lastUser?.content ?? '');
  const name = /CALLTOOL:([A-Za-z0-9_-]+)/.exec(text)?.[1];
  if (!name) return undefined;
  const offered = Array.isArray(tools) && tools.some((t) => t?.function?.name === name);
  return offered ? name : undefined;
}

/**
 * Server-sent events like OpenAI's streaming API, with the usage chunk of stream_options.include_usage.
 * @param {http.ServerResponse} res
 * @param {{ id: string, created: number, model: string }} reply
 * @param {string} text
 * @param {{ id: string, type: string, function: { name: string, arguments: string } } | undefined} toolCall
 * @param {boolean} includeUsage
 */
function streamReply(res, reply, text, toolCall, includeUsage) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  /** @param {Record<string, unknown>} delta @param {string | null} [finish] */
  const chunk = (delta, finish = null) => res.write(`data: ${JSON.stringify({
    ...reply, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`);
  if (toolCall) {
    chunk({ role: 'assistant', tool_calls: [{ index: 0, id: toolCall.id, type: 'function', function: { name: toolCall.function.name, arguments: '' } }] });
    chunk({ tool_calls: [{ index: 0, function: { arguments: toolCall.function.arguments } }] });
    chunk({}, 'tool_calls');
  } else {
    chunk({ role: 'assistant', content: '' });
    for (const word of text.split(/(?<= )/)) chunk({ content: word });
    chunk({}, 'stop');
  }
  if (includeUsage) {
    res.write(`data: ${JSON.stringify({ ...reply, object: 'chat.completion.chunk', choices: [], usage: USAGE })}\n\n`);
  }
  res.write('data: [DONE]\n\n');
  res.end();
}

/**
 * Passthrough mode: the CI OIDC token is the credential (seed 004, goose's OIDC proxy).
 * @param {PassthroughOptions} config
 */
function passthroughVerifier(config) {
  const trusted = trustedIssuer(config.issuer);
  return {
    header: config.header ?? 'authorization',
    /**
     * @param {string} token
     * @returns {Promise<AuthResult>}
     */
    async verify(token) {
      try {
        const { payload } = await jose.jwtVerify(token, await trusted.keys(), {
          issuer: trusted.issuer,
          audience: config.audience,
          maxTokenAge: config.maxAgeSec ?? 3600,
          requiredClaims: ['sub', 'exp', 'iat'],
        });
        const clientId = typeof payload.repository === 'string' ? payload.repository : undefined;
        return { ok: true, sub: payload.sub, clientId };
      } catch (error) {
        return { ok: false, reason: `jwt_${/** @type {{ code?: string }} */ (error).code ?? 'invalid'}` };
      }
    },
  };
}
