import { expect } from 'vitest';
import { createTokenEndpointAdapter } from '../../src/adapters/http/adapter.js';
import type { FlowConfig, FlowDeps, FlowNotice } from '../../src/flows/index.js';

/** Deps with the real HTTP adapter; `env` reaches the browser opener and the subject-token sources. */
export function realDeps(env: Record<string, string | undefined> = {}): FlowDeps {
  return { http: createTokenEndpointAdapter(), env: { PATH: process.env.PATH, ...env } };
}

/** A FlowConfig whose notices are recorded; `onNotice` lets a test act as the user. */
export function flowConfig(over: Partial<FlowConfig> & Pick<FlowConfig, 'providerId' | 'flow' | 'issuer' | 'clientAuth'>, onNotice?: (n: FlowNotice) => void) {
  const notices: FlowNotice[] = [];
  const config: FlowConfig = {
    scopes: [],
    interactive: true,
    ...over,
    notify: (n) => {
      notices.push(n);
      onNotice?.(n);
    },
  };
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
