/**
 * Where the upstream key comes from: a static secret (UPSTREAM_API_KEY, seed 004) or our own token engine
 * (engineCredential.ts). This file stays free of the engine, so the Workers bundle never pulls it in.
 */
export interface CredentialSource {
  key(): Promise<string>;
  stop(): void;
}

export class CredentialUnavailableError extends Error {
  override name = 'CredentialUnavailableError';
}

export function staticCredential(key: string): CredentialSource {
  return { key: async () => key, stop: () => undefined };
}
