import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../../lab/index.mjs';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { parseOpenCodeConfig } from '../../src/config/index.js';
import { createTokenEngine } from '../../src/engine.js';
import { machineServer, tempDir } from './support.js';

// baseURL (and the rest of the gateway settings) belong to OpenCode's shell; an embedder of the engine has no
// gateway to name and must not be made to invent one.
let idp: Idp;

beforeAll(async () => {
  idp = await startIdp();
});
afterAll(async () => {
  await idp?.stop();
});

const withoutBaseURL = (server: Record<string, unknown>) => {
  const { baseURL: _dropped, ...rest } = server;
  return rest;
};

describe('createTokenEngine without an OpenCode baseURL', () => {
  it('acquires a client_credentials token from a reference-shape block that has no baseURL', async () => {
    const server = withoutBaseURL(machineServer(idp));
    expect(server).not.toHaveProperty('baseURL');
    const engine = createTokenEngine({ servers: [server], store: createFileStore({ dir: await tempDir() }), notify: () => {} });
    try {
      expect(engine.issues).toEqual([]);
      const token = await engine.getToken('svc');
      expect((await idp.introspect(token.accessToken)).active).toBe(true);
      expect(idp.grantCount('client_credentials').successes).toBe(1);
      expect(engine.status().map((s) => s.providerId)).toEqual(['svc']);
    } finally {
      engine.stop();
    }
  });

  it('still reports every other bad field of such a block, naming the provider', () => {
    const engine = createTokenEngine({ servers: [withoutBaseURL(machineServer(idp, { clientSecret: undefined, clientAuthMethod: undefined }))], notify: () => {} });
    try {
      expect(engine.issues.map((i) => i.message)).toEqual([
        expect.stringMatching(/^svc: clientSecret is required when authFlow is "client_credentials"/),
      ]);
    } finally {
      engine.stop();
    }
  });

  it('leaves OpenCode’s own parse requiring baseURL (the plugin registers that gateway)', () => {
    const parsed = parseOpenCodeConfig({}, { pluginOptions: { servers: [withoutBaseURL(machineServer(idp))] } });
    expect(parsed.providers).toEqual([]);
    expect(parsed.errors.map((e) => e.message)).toEqual(['svc: baseURL is required']);
  });
});
