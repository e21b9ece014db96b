import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, startIdp, type Gateway, type Idp } from '../../lab/index.mjs';
import { createMemoryStore } from '../../src/adapters/storage/memoryStore.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { machineServer } from './support.js';

let idp: Idp;
let gateway: Gateway;
let engine: TokenEngine;
const chat = (body: RequestInit["body"]) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });
const request = JSON.stringify({ model: 'lab-model', messages: [{ role: 'user', content: 'hi' }] });

beforeAll(async () => {
  idp = await startIdp();
  gateway = await startGateway({ idp, models: ['lab-model'] });
  engine = createTokenEngine({ servers: [machineServer(idp)], store: createMemoryStore(), notify: () => {} });
});
afterAll(async () => {
  engine.stop();
  await gateway.stop();
  await idp.stop();
});

describe('engine.fetch against the lab gateway', () => {
  it('adds the bearer the gateway validates at the IdP', async () => {
    const response = await engine.fetch('svc')(`${gateway.baseURL}/models`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(['lab-model']);
  });

  it('a token revoked at the IdP: 401, one renewal, one replay that succeeds', async () => {
    const before = await engine.getToken('svc');
    await idp.revokeToken(before.accessToken);
    gateway.resetLog();
    idp.resetCounters();
    const response = await engine.fetch('svc')(`${gateway.baseURL}/chat/completions`, chat(request));
    expect(response.status).toBe(200);
    expect(gateway.requests.map((r) => r.status)).toEqual([401, 200]);
    expect(idp.grantCount('client_credentials').requests).toBe(1);
    expect((await engine.getToken('svc')).accessToken).not.toBe(before.accessToken);
  });

  it('a 401 for a token already replaced does not renew again (compare-and-invalidate)', async () => {
    const current = await engine.getToken('svc');
    idp.resetCounters();
    engine.tokenRejected('svc', 'some-older-token');
    expect((await engine.getToken('svc')).accessToken).toBe(current.accessToken);
    expect(idp.counters.token).toEqual({});
  });

  it('a streamed body is not replayed: the 401 reaches the caller, the token is still renewed', async () => {
    const current = await engine.getToken('svc');
    gateway.resetLog();
    gateway.rejectNext(1);
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(request)), c.close()) });
    const response = await engine.fetch('svc')(`${gateway.baseURL}/chat/completions`, { ...chat(stream), duplex: 'half' } as RequestInit);
    expect(response.status).toBe(401);
    expect(gateway.requests).toHaveLength(1);
    expect((await engine.getToken('svc')).accessToken).not.toBe(current.accessToken);
  });

  it('a 401 again after the replay is returned as is: one replay, never a loop', async () => {
    gateway.resetLog();
    gateway.rejectNext(2);
    const response = await engine.fetch('svc')(`${gateway.baseURL}/chat/completions`, chat(request));
    expect(response.status).toBe(401);
    expect(gateway.requests).toHaveLength(2);
  });
});
