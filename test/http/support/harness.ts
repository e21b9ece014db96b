import { expect } from 'vitest';
import type { Logger } from '../../../src/adapters/logger.js';

/** Secrets used by the tests; none of them may ever show up in an error message or a log record. */
export const SECRETS = {
  clientSecret: 'cs-Very$ecret:8f3a/9b2c',
  refreshToken: 'rt-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c',
  codeVerifier: 'cv_Zx81kQ0pLmN3vB7cX9wE2rT5yU8iO1aS4dF6gH0j',
  code: 'ac-4kLm9Qw2Zx',
  assertion: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJlLW9mLXRoZS1zdWJqZWN0',
  accessToken: 'at-Q7w8E9r0T1y2U3i4O5p6A7s8D9f0G1h2',
  newRefreshToken: 'rt-new-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d',
  deviceCode: 'dc-GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS',
} as const;

export interface LogRecord {
  level: string;
  event: string;
  fields: Record<string, unknown>;
}

/** Every log record and every rejection seen by any test in this worker, for a final sweep for secrets. */
export const collected: { records: LogRecord[][]; errors: unknown[] } = { records: [], errors: [] };

export function capturingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  collected.records.push(records);
  const at = (level: string) => (event: string, fields?: Record<string, unknown>) => {
    records.push({ level, event, fields: fields ?? {} });
  };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, records };
}

/** A sleep that returns at once and remembers what it was asked to wait. */
export function recordingSleep(onSleep?: (ms: number, call: number) => void | Promise<void>) {
  const calls: number[] = [];
  const sleep = async (ms: number) => {
    calls.push(ms);
    await onSleep?.(ms, calls.length);
  };
  return { calls, sleep };
}

/** Asserts that none of the secrets (the fixed ones plus any given) appear in any of the texts. */
export function expectNoSecrets(texts: unknown[], extra: string[] = []): void {
  const haystack = texts.map((t) => (typeof t === 'string' ? t : JSON.stringify(t))).join('\n');
  for (const secret of [...Object.values(SECRETS), ...extra]) {
    expect(haystack, `leaked ${secret.slice(0, 6)}…`).not.toContain(secret);
    expect(haystack).not.toContain(encodeURIComponent(secret));
  }
}

/** Runs a promise expected to reject and returns the rejection. */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    collected.errors.push(error instanceof Error ? { message: error.message, json: (error as { toJSON?: () => unknown }).toJSON?.() } : error);
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection, got a value');
}

/** The final sweep: no secret in any error or log record of the whole file. */
export function expectNoSecretsCollected(): void {
  expect(collected.errors.length + collected.records.length).toBeGreaterThan(0);
  expectNoSecrets([...collected.errors, ...collected.records]);
}
