import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCiIssuer, startIdp, type CiIssuer, type Idp } from '../../lab/index.mjs';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { createTokenEngine, type SubjectTokenSource } from '../../src/engine.js';
import { tempDir } from './support.js';

// A platform no built-in source covers: the host passes its own subject-token source to createTokenEngine.
let ci: CiIssuer;
let idp: Idp;

beforeAll(async () => {
  ci = await startCiIssuer();
  idp = await startIdp({ ciIssuer: ci });
});
afterAll(async () => {
  await idp?.stop();
  await ci?.stop();
});

describe('a custom subject-token source', () => {
  it('is read fresh for every acquisition instead of the configured source', async () => {
    const reads: string[] = [];
    const source: SubjectTokenSource = {
      describe: () => 'my-platform',
      async read(context) {
        reads.push(context.providerId);
        return ci.mint({ aud: idp.issuer });
      },
    };
    const engine = createTokenEngine({
      servers: [
        {
          id: 'ci',
          issuer: idp.issuer,
          baseURL: 'http://127.0.0.1:9/v1',
          clientId: idp.clients.ci.client_id,
          scopes: ['api:read'],
          authFlow: 'jwt_bearer',
          // The configured source would fail here (no such variable); the custom one replaces it.
          subjectTokenSource: { type: 'env', var: 'NO_SUCH_SUBJECT_TOKEN_VAR' },
        },
      ],
      store: createFileStore({ dir: await tempDir() }),
      subjectTokenSources: { ci: source },
      notify: () => {},
    });
    try {
      const token = await engine.getToken('ci');
      expect((await idp.introspect(token.accessToken)).active).toBe(true);
      expect(reads).toEqual(['ci']);
      expect(idp.grantCount('jwt_bearer').successes).toBe(1);
    } finally {
      engine.stop();
    }
  });
});
