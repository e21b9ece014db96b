import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCiIssuer, startGateway, startIdp, type CiIssuer, type Gateway, type Idp } from '../../lab/index.mjs';
import { loginWithCode, postToken } from './helpers.js';

let ci: CiIssuer;
let idp: Idp;
let gateway: Gateway;
let passthrough: Gateway;

beforeAll(async () => {
  ci = await startCiIssuer();
  idp = await startIdp({ ciIssuer: ci });
  gateway = await startGateway({ idp, models: ['lab-model', { id: 'gateway-only-model', owned_by: 'acme' }] });
  passthrough = await startGateway({
    passthrough: { issuer: ci, audience: 'goose-proxy', header: 'x-api-key', maxAgeSec: 600 },
    models: ['ci-model'],
  });
});

afterAll(async () => {
  await gateway?.stop();
  await passthrough?.stop();
  await idp?.stop();
  await ci?.stop();
});

async function machineToken(): Promise<string> {
  const res = await postToken(idp, { grant_type: 'client_credentials', scope: 'api:read' }, {
    basic: [idp.clients.basic.client_id, idp.clients.basic.client_secret ?? ''],
  });
  return res.json?.access_token as string;
}

/** The assistant text of an SSE chat stream. */
function sseText(raw: string): string {
  return raw
    .split('\n\n')
    .map((e) => e.replace(/^data: /, ''))
    .filter((e) => e && e !== '[DONE]')
    .map((e) => (JSON.parse(e) as Record<string, any>).choices[0]?.delta?.content ?? '')
    .join('');
}

function chat(base: string, headers: Record<string, string>, body: Record<string, unknown>) {
  return fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('lab gateway (introspection)', () => {
  it('lists models and answers chat with the caller identity, never the token', async () => {
    const token = await machineToken();
    const models = await fetch(`${gateway.baseURL}/models`, { headers: { authorization: `Bearer ${token}` } });
    expect(models.status).toBe(200);
    expect(await models.json()).toEqual({
      object: 'list',
      data: [
        { id: 'lab-model', object: 'model', created: 0, owned_by: 'lab' },
        { id: 'gateway-only-model', object: 'model', created: 0, owned_by: 'acme' },
      ],
    });

    const res = await chat(gateway.baseURL, { authorization: `Bearer ${token}` }, {
      model: 'gateway-only-model', messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    const text = body.choices[0].message.content as string;
    expect(text).toContain('gateway-only-model');
    expect(text).toContain('client=lab-basic');
    expect(text).not.toContain(token);
    const last = gateway.requests.at(-1);
    expect(last).toMatchObject({ method: 'POST', path: '/v1/chat/completions', model: 'gateway-only-model', authorized: true, client_id: 'lab-basic', status: 200 });
    expect(JSON.stringify(gateway.requests)).not.toContain(token);
  });

  it('streams SSE with the include_usage chunk and [DONE]', async () => {
    const token = await machineToken();
    const res = await chat(gateway.baseURL, { authorization: `Bearer ${token}` }, {
      model: 'lab-model', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const raw = await res.text();
    const events = raw.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Record<string, any>);
    expect(sseText(raw)).toMatch(/^Hello from the lab gateway \(model lab-model\); sub=- client=lab-basic$/);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 20 } });
  });

  it('tool-call mode: CALLTOOL:<name> asks for the tool once, then answers with its output', async () => {
    const token = await machineToken();
    const tools = [{ type: 'function', function: { name: 'oauth_status', parameters: { type: 'object' } } }];
    const first = await chat(gateway.baseURL, { authorization: `Bearer ${token}` }, {
      model: 'lab-model', tools, messages: [{ role: 'user', content: 'please CALLTOOL:oauth_status' }],
    });
    const call = ((await first.json()) as Record<string, any>).choices[0];
    expect(call.finish_reason).toBe('tool_calls');
    expect(call.message.tool_calls[0].function.name).toBe('oauth_status');
    const second = await chat(gateway.baseURL, { authorization: `Bearer ${token}` }, {
      model: 'lab-model', tools, stream: true,
      messages: [
        { role: 'user', content: 'please CALLTOOL:oauth_status' },
        { role: 'assistant', tool_calls: call.message.tool_calls },
        { role: 'tool', tool_call_id: 'call_lab_1', content: 'all good' },
      ],
    });
    expect(sseText(await second.text())).toBe('Tool said: all good');
  });

  it('401 for garbage, a missing bearer, a refresh token, a revoked token and forced rejections', async () => {
    const unauthorized = async (headers: Record<string, string>) => {
      const res = await fetch(`${gateway.baseURL}/models`, { headers });
      const body = (await res.json()) as Record<string, any>;
      expect(body.error.code).toBe('invalid_api_key');
      expect(res.headers.get('www-authenticate')).toMatch(/invalid_token/);
      return res.status;
    };
    expect(await unauthorized({ authorization: 'Bearer garbage' })).toBe(401);
    expect(await unauthorized({})).toBe(401);

    const token = await machineToken();
    const ok = await fetch(`${gateway.baseURL}/models`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    gateway.rejectNext(1);
    expect(await unauthorized({ authorization: `Bearer ${token}` })).toBe(401);
    expect(gateway.requests.at(-1)?.reason).toBe('forced_rejection');
    expect(await idp.revokeToken(token)).toBe(true);
    expect(await unauthorized({ authorization: `Bearer ${token}` })).toBe(401);
    expect(gateway.requests.at(-1)?.reason).toBe('inactive');

    const user = await loginWithCode(idp, 'frank');
    expect(await unauthorized({ authorization: `Bearer ${user.refresh_token}` })).toBe(401);
    expect(gateway.requests.at(-1)?.reason).toBe('not_an_access_token');
    const asUser = await chat(gateway.baseURL, { authorization: `Bearer ${user.access_token}` }, {
      model: 'lab-model', messages: [{ role: 'user', content: 'hi' }],
    });
    expect(((await asUser.json()) as Record<string, any>).choices[0].message.content).toContain('sub=frank client=lab-native');
    expect(gateway.counters.unauthorized).toBe(5);
  });

  it('unknown model is 404 model_not_found', async () => {
    const res = await chat(gateway.baseURL, { authorization: `Bearer ${await machineToken()}` }, { model: 'nope', messages: [] });
    expect(res.status).toBe(404);
    expect(((await res.json()) as Record<string, any>).error.code).toBe('model_not_found');
  });
});

describe('lab gateway (passthrough of a CI OIDC token)', () => {
  it('accepts a CI JWT for its audience in x-api-key, refuses other audiences, expired tokens and Bearer', async () => {
    const jwt = await ci.mint({ aud: 'goose-proxy' });
    const ok = await chat(passthrough.baseURL, { 'x-api-key': jwt }, { model: 'ci-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(ok.status).toBe(200);
    const text = ((await ok.json()) as Record<string, any>).choices[0].message.content as string;
    expect(text).toContain('sub=repo:octo-org/octo-repo:ref:refs/heads/main');
    expect(passthrough.counters.introspections).toBe(0);

    const status = async (headers: Record<string, string>) =>
      (await fetch(`${passthrough.baseURL}/models`, { headers })).status;
    expect(await status({ 'x-api-key': await ci.mint({ aud: 'someone-else' }) })).toBe(401);
    expect(passthrough.requests.at(-1)?.reason).toBe('jwt_ERR_JWT_CLAIM_VALIDATION_FAILED');
    expect(await status({ 'x-api-key': await ci.mint({ aud: 'goose-proxy', ttlSec: -5 }) })).toBe(401);
    expect(await status({ authorization: `Bearer ${jwt}` })).toBe(401);
    expect(await status({ 'x-api-key': await ci.mint({ aud: 'goose-proxy', iat: Math.floor(Date.now() / 1000) - 900, ttlSec: 1800 }) })).toBe(401);
    expect(JSON.stringify(passthrough.requests)).not.toContain(jwt);
  });
});
