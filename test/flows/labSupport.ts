import { expect } from 'vitest';
import { createTokenEndpointAdapter } from '../../src/adapters/http/adapter.js';
import type { ClientAuth } from '../../src/adapters/http/types.js';
import { DEFAULT_LOGIN_TIMEOUT_SEC, DEFAULT_REDIRECT_PATH, JWT_TOKEN_TYPE } from '../../src/constants.js';
import type { FlowConfig, FlowDeps, FlowName, FlowNotice } from '../../src/flows/index.js';

/** Deps with the real HTTP adapter; `env` reaches the browser opener and the subject-token sources. */
export function realDeps(env: Record<string, string | undefined> = {}): FlowDeps {
  return { http: createTokenEndpointAdapter(), env: { PATH: process.env.PATH, ...env } };
}

/** The fields a flow test sets; the rest take the schema's defaults (as a parsed provider would have them). */
type FlowTestConfig = { id: string; flow: FlowName; clientAuth: ClientAuth; issuer?: string } & Record<string, unknown>;

/** A FlowConfig whose notices are recorded; `onNotice` lets a test act as the user. */
export function flowConfig(over: FlowTestConfig, onNotice?: (n: FlowNotice) => void) {
  const notices: FlowNotice[] = [];
  const config = {
    name: over.id,
    enabled: true,
    source: 'test',
    httpTimeoutMs: 15_000,
    tokenExpirySkewMs: 30_000,
    assumedLifetimeSec: 300,
    loginTimeoutSec: DEFAULT_LOGIN_TIMEOUT_SEC,
    clientId: over.clientAuth.clientId,
    client: { method: 'none' },
    scopes: [],
    endpoints: {},
    openBrowser: true,
    redirectPath: DEFAULT_REDIRECT_PATH,
    pkce: true,
    subjectTokenType: JWT_TOKEN_TYPE,
    header: 'authorization',
    prefix: 'Bearer ',
    interactive: true,
    ...over,
    notify: (n: FlowNotice) => {
      notices.push(n);
      onNotice?.(n);
    },
  } as unknown as FlowConfig;
  return { config, notices };
}

/** Run and return the rejection (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, any>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, any>;
  }
  throw new Error('expected the flow to fail');
}

/** No secret, in any of its values, may appear in an error's message or its JSON form. */
export function expectNoSecrets(error: unknown, secrets: readonly (string | undefined)[]): void {
  const text = `${(error as Error).message}\n${JSON.stringify(error)}\n${JSON.stringify((error as { toJSON?: () => unknown }).toJSON?.() ?? {})}`;
  for (const secret of secrets) {
    if (secret && secret.length >= 6) expect(text).not.toContain(secret);
  }
  expect(text).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/); // no JWT-shaped value
}
