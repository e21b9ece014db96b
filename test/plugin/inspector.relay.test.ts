import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { startIdp, type Idp } from '../../lab/index.mjs';
import type { Logger } from '../../src/adapters/logger.js';
import { createMemoryStore } from '../../src/adapters/storage/memoryStore.js';
import { inspectorFromEnv } from '../../src/plugin/index.js';
import { createTokenEngine } from '../../src/runtime/index.js';
import { browserEnv, machineServer, userServer } from '../engine/support.js';

// The Stately relay only forwards what the app sends; this one stands in for it on 127.0.0.1 and keeps
// every message, so the test sees exactly what a browser with the inspector open would see.
let relay: WebSocketServer;
let url: string;
const messages: string[] = [];
let idp: Idp;
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  relay = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => relay.once('listening', () => r()));
  url = `ws://127.0.0.1:${(relay.address() as AddressInfo).port}`;
  relay.on('connection', (socket) => socket.on('message', (data) => messages.push(data.toString())));
  idp = await startIdp();
});
afterAll(async () => {
  await idp.stop();
  await new Promise<void>((r) => relay.close(() => r()));
});

async function until(predicate: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(predicate()).toBe(true);
}

describe('the engine in the Stately inspector', () => {
  it('sends each machine definition and its snapshots, with every secret redacted', async () => {
    const inspector = (await inspectorFromEnv({ OPENCODE_OAUTH_INSPECT: url }, silent))!;
    expect(inspector).toBeDefined();
    const engine = createTokenEngine({
      servers: [machineServer(idp), userServer(idp)],
      store: createMemoryStore(),
      inspect: inspector.inspect,
      notify: () => {},
      flowDeps: { env: browserEnv() },
    });
    try {
      const machineToken = await engine.getToken('svc');
      const userToken = await engine.login('corp');
      const events = () => messages.map((m) => JSON.parse(m) as { type: string; sessionId?: string; definition?: string; snapshot?: { value?: unknown } });
      await until(() => events().some((e) => e.type === '@xstate.snapshot' && JSON.stringify(e.snapshot?.value) === '"valid"'));

      const actors = events().filter((e) => e.type === '@xstate.actor');
      const definitions = actors.map((e) => (e.definition ? (JSON.parse(e.definition) as { id?: string }).id : undefined));
      expect(definitions).toContain('tokenLifecycle');
      expect(definitions).toContain('assertionGrant');
      expect(definitions).toContain('authorizationCode');
      const lifecycle = actors.find((e) => e.definition?.includes('"tokenLifecycle"'))!;
      expect(JSON.parse(lifecycle.definition!).states).toHaveProperty('renewing');

      const everything = messages.join('\n');
      for (const secret of [machineToken.accessToken, userToken.accessToken, userToken.refreshToken!, idp.clients.basic.client_secret!]) {
        expect(everything).not.toContain(secret);
      }
      expect(everything).toContain('[redacted]');
    } finally {
      engine.stop();
      inspector.stop();
    }
  });
});
