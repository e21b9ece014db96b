// @ts-check
/**
 * Small helpers shared by the lab servers: loopback listen, full shutdown, body reading, JSON answers.
 * Every lab server binds 127.0.0.1 on port 0 only.
 * @module
 */
import http from 'node:http';

/**
 * Start listening on 127.0.0.1 with an ephemeral port.
 * @param {http.Server} server
 * @returns {Promise<number>} the port
 */
export async function listenOnLoopback(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(undefined);
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('lab: server has no TCP address');
  return address.port;
}

/**
 * Stop accepting, then destroy every open socket (keep-alive and hung requests included),
 * so stop() never waits on a client.
 * @param {http.Server} server
 * @returns {Promise<void>}
 */
export async function closeServer(server) {
  if (!server.listening) return;
  const closed = new Promise((resolve) => server.close(() => resolve(undefined)));
  server.closeAllConnections();
  await closed;
}

/**
 * Read a request body as text, bounded.
 * @param {http.IncomingMessage} req
 * @param {number} [limit]
 * @returns {Promise<string>}
 */
export async function readBodyText(req, limit = 1024 * 1024) {
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('lab: request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
export function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/**
 * Parse a JSON body without throwing.
 * @param {string} text
 * @returns {any}
 */
export function parseJsonLoose(text) {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Read the bearer value of an `Authorization` header (scheme is case-insensitive, RFC 6750 §2.1).
 * @param {string | undefined} header
 * @returns {string | undefined}
 */
export function bearerFrom(header) {
  if (!header) return undefined;
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
