import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/adapters/logger.js';
import { discoverModels, fetchModels, ModelDiscoveryError } from '../../src/adapters/models/index.js';

const TOKEN = 'at-Secret-Value-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const JWT_IN_BODY = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function startServer(routes: Record<string, Handler>): Promise<{ server: Server; base: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) route(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}`, seen };
}

const json = (status: number, body: unknown): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

function recordingLogger() {
  const events: { level: string; event: string; fields?: Record<string, unknown> }[] = [];
  const log = (level: string) => (event: string, fields?: Record<string, unknown>) => void events.push({ level, event, ...(fields ? { fields } : {}) });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  return { logger, events };
}

async function failure(promise: Promise<unknown>): Promise<ModelDiscoveryError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ModelDiscoveryError);
  return error as ModelDiscoveryError;
}

function expectNoSecret(error: ModelDiscoveryError) {
  const visible = JSON.stringify({ message: error.message, json: error.toJSON(), preview: error.bodyPreview });
  expect(visible).not.toContain(TOKEN);
  expect(visible).not.toContain(JWT_IN_BODY);
}

let gateway: Awaited<ReturnType<typeof startServer>>;
let elsewhere: Awaited<ReturnType<typeof startServer>>;
const held: ServerResponse[] = [];

beforeAll(async () => {
  elsewhere = await startServer({ '/models': json(200, { data: [{ id: 'stolen' }] }) });
  gateway = await startServer({
    '/v1/models': json(200, { object: 'list', data: [{ id: 'glm-5', owned_by: 'zai', context_length: 128000 }, { id: 'glm-5' }, { id: 'kimi-k2.6' }] }),
    '/array/models': json(200, [{ id: 'a' }, { id: 'b', name: 'Model B' }]),
    '/empty/models': json(200, { data: [] }),
    '/legacy/v1/models': json(200, { data: [{ id: 'from-legacy' }] }),
    '/unauthorized/models': json(401, { error: 'invalid_token', echoed: `Bearer ${TOKEN}`, jwt: JWT_IN_BODY }),
    '/forbidden/models': json(403, { error: 'insufficient_scope' }),
    '/broken/models': (_req, res) => res.writeHead(500, { 'content-type': 'text/html' }).end('<html><body>Internal Server Error</body></html>'),
    '/login/models': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><form action="/login"></form>'),
    '/notjson/models': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data": ['),
    '/shape/models': json(200, { models: [{ id: 'x' }] }),
    '/hang/models': (_req, res) => void held.push(res),
    '/slowbody/models': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data": [');
      held.push(res);
    },
    '/big/models': json(200, { data: Array.from({ length: 2000 }, (_, i) => ({ id: `model-${i}` })) }),
    '/hop/models': (_req, res) => res.writeHead(302, { location: '/v1/models' }).end(),
    '/away/models': (_req, res) => res.writeHead(302, { location: `${elsewhere.base}/models` }).end(),
  });
});

afterAll(async () => {
  for (const res of held) res.destroy();
  for (const { server } of [gateway, elsewhere]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('fetchModels against a real HTTP server', () => {
  it('sends the bearer and Accept, parses {data}, dedupes and keeps metadata', async () => {
    const models = await fetchModels({ url: `${gateway.base}/v1/models`, bearer: TOKEN, providerId: 'corp', timeoutMs: 5000 });
    expect(models).toEqual([{ id: 'glm-5', ownedBy: 'zai', contextLength: 128000 }, { id: 'kimi-k2.6' }]);
    const request = gateway.seen.at(-1)!;
    expect(request.method).toBe('GET');
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers.accept).toBe('application/json');
  });

  it('reads a top-level array and sends extra headers (passthrough) without a bearer', async () => {
    const models = await fetchModels({ url: `${gateway.base}/array/models`, headers: { 'x-api-key': TOKEN }, providerId: 'ci' });
    expect(models).toEqual([{ id: 'a' }, { id: 'b', upstreamName: 'Model B' }]);
    const request = gateway.seen.at(-1)!;
    expect(request.headers['x-api-key']).toBe(TOKEN);
    expect(request.headers.authorization).toBeUndefined();
  });

  it('logs model_discovery_empty for an empty list and returns []', async () => {
    const { logger, events } = recordingLogger();
    expect(await fetchModels({ url: `${gateway.base}/empty/models`, bearer: TOKEN, providerId: 'corp', logger })).toEqual([]);
    expect(events.map((e) => e.event)).toEqual(['model_discovery_empty']);
  });

  it('401: code unauthorized, status, provider id, a fix; the body only as a scrubbed log preview', async () => {
    const { logger, events } = recordingLogger();
    const error = await failure(fetchModels({ url: `${gateway.base}/unauthorized/models?key=${TOKEN}`, bearer: TOKEN, providerId: 'corp', logger }));
    expect(error.code).toBe('unauthorized');
    expect(error.status).toBe(401);
    expect(error.providerId).toBe('corp');
    expect(error.message).toBe(
      `[corp] model discovery failed (401) at ${gateway.base}/unauthorized/models — the gateway refused the token; check that it accepts tokens from this issuer and audience`,
    );
    expect(error.message).not.toContain('invalid_token');
    expect(error.bodyPreview).toContain('invalid_token');
    expectNoSecret(error);
    expect(events).toHaveLength(1);
    expect(events[0]!.event).toBe('model_discovery_error_body');
    expect(JSON.stringify(events)).not.toContain(TOKEN);
    expect(JSON.stringify(events)).not.toContain(JWT_IN_BODY);
  });

  it('403 and 500 (HTML body) map to forbidden and http_error', async () => {
    const forbidden = await failure(fetchModels({ url: `${gateway.base}/forbidden/models`, bearer: TOKEN, providerId: 'corp' }));
    expect(forbidden.code).toBe('forbidden');
    const broken = await failure(fetchModels({ url: `${gateway.base}/broken/models`, bearer: TOKEN, providerId: 'corp' }));
    expect(broken.code).toBe('http_error');
    expect(broken.status).toBe(500);
    expect(broken.message).not.toContain('Internal Server Error');
    expect(broken.bodyPreview).toContain('Internal Server Error');
  });

  it('a 200 that is not a model list (HTML login page, truncated JSON, other shape) is invalid_response', async () => {
    for (const path of ['/login/models', '/notjson/models', '/shape/models']) {
      const error = await failure(fetchModels({ url: `${gateway.base}${path}`, bearer: TOKEN, providerId: 'corp' }));
      expect(error.code).toBe('invalid_response');
      expect(error.status).toBe(200);
      expectNoSecret(error);
    }
  });

  it('a hung server and a stalled body both end as timeout', async () => {
    for (const path of ['/hang/models', '/slowbody/models']) {
      const error = await failure(fetchModels({ url: `${gateway.base}${path}`, bearer: TOKEN, providerId: 'corp', timeoutMs: 300 }));
      expect(error.code).toBe('timeout');
      expect(error.message).toContain('timed out after 300 ms');
    }
  });

  it('a closed port is a network error', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const error = await failure(fetchModels({ url: `http://127.0.0.1:${port}/v1/models`, bearer: TOKEN, providerId: 'corp', timeoutMs: 5000 }));
    expect(error.code).toBe('network');
  });

  it('a caller abort is passed through as the caller’s reason', async () => {
    const controller = new AbortController();
    const pending = fetchModels({ url: `${gateway.base}/hang/models`, bearer: TOKEN, providerId: 'corp', signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });

  it('follows a same-origin redirect; refuses a cross-origin one without sending the token there', async () => {
    expect(await fetchModels({ url: `${gateway.base}/hop/models`, bearer: TOKEN, providerId: 'corp' })).toHaveLength(2);
    const before = elsewhere.seen.length;
    const error = await failure(fetchModels({ url: `${gateway.base}/away/models`, bearer: TOKEN, providerId: 'corp' }));
    expect(error.code).toBe('redirect');
    expect(elsewhere.seen.length).toBe(before);
  });

  it('refuses a body above maxBytes', async () => {
    const error = await failure(fetchModels({ url: `${gateway.base}/big/models`, bearer: TOKEN, providerId: 'corp', maxBytes: 1024 }));
    expect(error.code).toBe('too_large');
  });
});

describe('discoverModels', () => {
  it('uses <baseURL>/models', async () => {
    const found = await discoverModels({ baseURL: `${gateway.base}/v1`, bearer: TOKEN, providerId: 'corp' });
    expect(found.url).toBe(`${gateway.base}/v1/models`);
    expect(found.models.map((m) => m.id)).toEqual(['glm-5', 'kimi-k2.6']);
  });

  it("falls back to the reference's <baseURL>/v1/models on 404 only", async () => {
    const found = await discoverModels({ baseURL: `${gateway.base}/legacy`, bearer: TOKEN, providerId: 'corp' });
    expect(found).toEqual({ url: `${gateway.base}/legacy/v1/models`, models: [{ id: 'from-legacy' }] });
    const error = await failure(discoverModels({ baseURL: `${gateway.base}/unauthorized`, bearer: TOKEN, providerId: 'corp' }));
    expect(error.code).toBe('unauthorized');
    expect(gateway.seen.at(-1)!.url).toBe('/unauthorized/models');
  });

  it('with modelsPath, asks only there', async () => {
    const error = await failure(discoverModels({ baseURL: `${gateway.base}/legacy`, modelsPath: 'nothing', bearer: TOKEN, providerId: 'corp' }));
    expect(error.code).toBe('not_found');
    expect(gateway.seen.at(-1)!.url).toBe('/legacy/nothing');
  });
});
