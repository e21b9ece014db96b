import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, startIdp, type Gateway, type Idp } from '../../lab/index.mjs';
import { createMemoryStore } from '../../src/adapters/storage/memoryStore.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { machineServer } from '../engine/support.js';
import { startHostileGateway, type HostileGateway } from './support/hostileGateway.mjs';

/**
 * engine.fetch (the fetch OpenCode's provider uses) against a hostile gateway under Node: error bodies that
 * echo the credential (issue 10.2), cross-origin redirects (10.3), and a gateway that refuses freshly issued
 * tokens (12.4). The token comes from the lab IdP (client_credentials); the passthrough credential is a
 * CI-style secret sent in `x-api-key`.
 */

let idp: Idp;
let hostile: HostileGateway;
let labGateway: Gateway;
let engine: TokenEngine;
const PASSTHROUGH_SECRET = 'ci-jwt-Xy7/Qk2+secretValue0123456789';
const chat = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'lab-model', messages: [] }) };

beforeAll(async () => {
  idp = await startIdp();
  hostile = await startHostileGateway();
  labGateway = await startGateway({ idp, models: ['lab-model'] });
  process.env.SEC_TEST_PASSTHROUGH = PASSTHROUGH_SECRET;
  engine = createTokenEngine({
    servers: [
      machineServer(idp),
      { id: 'ci', baseURL: 'http://127.0.0.1:9/v1', passthrough: { header: 'x-api-key' }, subjectTokenSource: { type: 'env', var: 'SEC_TEST_PASSTHROUGH' } },
    ],
    store: createMemoryStore(),
    notify: () => {},
  });
});
afterAll(async () => {
  engine?.stop();
  delete process.env.SEC_TEST_PASSTHROUGH;
  await Promise.all([hostile?.stop(), labGateway?.stop(), idp?.stop()]);
});

describe('error bodies that echo the credential (issue 10.2)', () => {
  it('a 403 echoing Authorization reaches the caller with the token scrubbed from body and headers', async () => {
    const token = await engine.getToken('svc');
    const response = await engine.fetch('svc')(`${hostile.baseURL('echo')}/chat/completions`, chat);
    expect(response.status).toBe(403);
    const body = await response.text();
    expect(body).toContain('Incorrect API key provided');
    expect(body).not.toContain(token.accessToken);
    expect(body).not.toContain(token.accessToken.replace(/\//g, '\\/'));
    expect(response.headers.get('x-echo') ?? '').not.toContain(token.accessToken);
    expect(JSON.parse(body.slice(0, body.indexOf('\n'))).error.type).toBe('invalid_request_error');
  });

  it('the provider\'s client secret echoed in a 403 is scrubbed (a known secret of the engine)', async () => {
    const secret = idp.clients.basic.client_secret!;
    const response = await engine.fetch('svc')(`${hostile.baseURL('echo')}/chat/completions`, { ...chat, headers: { ...chat.headers, 'x-echo-extra': secret } });
    const body = await response.text();
    expect(body).toContain('(and [redacted])');
    expect(body).not.toContain(secret);
  });

  it('a passthrough x-api-key echoed in a 403 is scrubbed too', async () => {
    const response = await engine.fetch('ci')(`${hostile.baseURL('echo')}/chat/completions`, chat);
    const body = await response.text();
    expect(response.status).toBe(403);
    expect(body).not.toContain(PASSTHROUGH_SECRET);
    expect(body).not.toContain(PASSTHROUGH_SECRET.replace(/\//g, '\\/'));
    expect(response.headers.get('x-echo') ?? '').not.toContain(PASSTHROUGH_SECRET);
  });
});

describe('cross-origin redirects (issue 10.3, Node)', () => {
  it('a 307 to another origin arrives there without the bearer', async () => {
    hostile.sinkRequests.length = 0;
    const token = await engine.getToken('svc');
    const response = await engine.fetch('svc')(`${hostile.baseURL('redirect')}/chat/completions`, chat);
    await response.text();
    expect(hostile.sinkRequests).toHaveLength(1);
    expect(hostile.sinkRequests[0]!.headers.authorization).toBeUndefined();
    expect(JSON.stringify(hostile.sinkRequests[0]!.headers)).not.toContain(token.accessToken);
  });

  it('a 307 to another origin arrives there without the passthrough x-api-key', async () => {
    hostile.sinkRequests.length = 0;
    const response = await engine.fetch('ci')(`${hostile.baseURL('redirect')}/chat/completions`, chat);
    await response.text();
    expect(hostile.sinkRequests).toHaveLength(1);
    expect(hostile.sinkRequests[0]!.headers['x-api-key']).toBeUndefined();
    expect(JSON.stringify(hostile.sinkRequests[0]!.headers)).not.toContain(PASSTHROUGH_SECRET);
  });

  it('a same-origin request still works with its credential (the lab gateway validates it)', async () => {
    const response = await engine.fetch('svc')(`${labGateway.baseURL}/models`);
    expect(response.status).toBe(200);
  });
});

describe('a gateway that refuses a freshly issued token (issue 12.4)', () => {
  it('gets a message of its own in the body OpenCode shows, naming audience, scope and issuer config', async () => {
    const response = await engine.fetch('svc')(`${hostile.baseURL('echo401')}/chat/completions`, chat);
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe('gateway_rejected_token');
    expect(body.error.message).toContain('[svc] the gateway refused a freshly issued token');
    expect(body.error.message).toMatch(/audience/);
    expect(body.error.message).toMatch(/scope/);
    expect(body.error.message).toMatch(/issuer/);
    // The gateway's own words are kept, scrubbed.
    expect(body.error.message).toContain('Incorrect API key provided');
    expect(body.error.message).not.toContain((await engine.getToken('svc')).accessToken);
  });
});
