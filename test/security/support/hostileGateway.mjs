// @ts-check
/**
 * A hostile OpenAI-compatible gateway on 127.0.0.1, for the leak tests of issue 10: it echoes the credentials
 * it receives in its error bodies and headers, or redirects to another origin (a sink that records every header
 * it gets). The mode is the first path segment of the base URL:
 * - `/echo/v1`: `/models` answers 200; chat answers 403 with `Authorization` and `x-api-key` echoed (raw, and
 *   JSON-escaped with `\/` as PHP and Java encoders write it) in the body and in an `x-echo` header, plus
 *   whatever the request's `x-echo-extra` header carries.
 * - `/echo401/v1`: the same with 401 (the client renews once and replays).
 * - `/redirect/v1`: every request gets a 307 to the same path on the sink (another port: another origin).
 * @module
 */
import http from 'node:http';

/**
 * @typedef {object} HostileGateway
 * @property {string} origin e.g. http://127.0.0.1:1234
 * @property {(mode: 'echo' | 'echo401' | 'redirect') => string} baseURL
 * @property {Array<{ path: string, headers: Record<string, string | string[] | undefined> }>} sinkRequests what reached the redirect target
 * @property {Array<{ path: string, status: number }>} requests
 * @property {() => Promise<void>} stop
 */

/** @param {http.Server} server @returns {Promise<string>} */
function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve(`http://127.0.0.1:${address.port}`);
    });
  });
}

/** @param {http.Server} server */
function close(server) {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve(undefined));
  });
}

/** @param {http.IncomingMessage} req */
async function drain(req) {
  for await (const _ of req) void _;
}

/** @returns {Promise<HostileGateway>} */
export async function startHostileGateway() {
  /** @type {HostileGateway['sinkRequests']} */
  const sinkRequests = [];
  /** @type {HostileGateway['requests']} */
  const requests = [];
  const sink = http.createServer(async (req, res) => {
    await drain(req);
    sinkRequests.push({ path: req.url ?? '', headers: { ...req.headers } });
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'the redirect target has no such model', type: 'invalid_request_error' } }));
  });
  const sinkOrigin = await listen(sink);
  const gateway = http.createServer(async (req, res) => {
    await drain(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [, mode, ...rest] = url.pathname.split('/');
    const auth = String(req.headers.authorization ?? '');
    const apiKey = String(req.headers['x-api-key'] ?? '');
    const reply = (/** @type {number} */ status, /** @type {Record<string, string>} */ headers, /** @type {string} */ body) => {
      requests.push({ path: url.pathname, status });
      res.writeHead(status, headers);
      res.end(body);
    };
    if (mode === 'redirect') return reply(307, { location: `${sinkOrigin}/${rest.join('/')}` }, '');
    if (url.pathname.endsWith('/models')) {
      return reply(200, { 'content-type': 'application/json' }, JSON.stringify({ object: 'list', data: [{ id: 'lab-model', object: 'model', created: 0, owned_by: 'hostile' }] }));
    }
    const bearer = auth.replace(/^Bearer\s+/i, '');
    const body = JSON.stringify({
      error: {
        message: `Incorrect API key provided: ${auth} ${apiKey}${req.headers['x-echo-extra'] ? ` (and ${req.headers['x-echo-extra']})` : ''}`,
        type: 'invalid_request_error',
        echoed: { authorization: auth, key: apiKey, escaped: bearer.replace(/\//g, '\\/') },
      },
    }).replace(/\\\\\//g, '\\/');
    const status = mode === 'echo401' ? 401 : 403;
    return reply(status, { 'content-type': 'application/json', 'x-echo': auth || apiKey }, `${body}\n<!-- raw: ${bearer} ${apiKey} -->`);
  });
  const origin = await listen(gateway);
  return {
    origin,
    baseURL: (mode) => `${origin}/${mode}/v1`,
    sinkRequests,
    requests,
    stop: async () => {
      await Promise.all([close(gateway), close(sink)]);
    },
  };
}
