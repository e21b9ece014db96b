import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROWSER_SCRIPT, type Idp } from '../../lab/index.mjs';

export const CHILD = new URL('./fixtures/engineChild.mjs', import.meta.url).pathname;

export const tempDir = (prefix = 'engine-') => mkdtemp(join(tmpdir(), prefix));

/** The env for flows: the lab's BROWSER shim completes logins without a human. */
export const browserEnv = () => ({ ...process.env, BROWSER: `${process.execPath} ${BROWSER_SCRIPT}` });

export function userServer(idp: Idp, overrides: Record<string, unknown> = {}) {
  return {
    id: 'corp',
    issuer: idp.issuer,
    baseURL: 'http://127.0.0.1:9/v1',
    clientId: idp.clients.native.client_id,
    scopes: ['openid', 'offline_access', 'api:read'],
    authFlow: 'authorization_code',
    ...overrides,
  };
}

export function machineServer(idp: Idp, overrides: Record<string, unknown> = {}) {
  return {
    id: 'svc',
    issuer: idp.issuer,
    baseURL: 'http://127.0.0.1:9/v1',
    clientId: idp.clients.basic.client_id,
    clientSecret: idp.clients.basic.client_secret,
    clientAuthMethod: 'client_secret_basic',
    scopes: ['api:read'],
    authFlow: 'client_credentials',
    ...overrides,
  };
}

/** Resolves with the next line a child writes, within a bound. */
export function nextLine(child: ChildProcess, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`child ${child.pid} wrote no line within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(buffer.slice(0, newline));
    };
    child.stdout!.on('data', onData);
  });
}

export function spawnEngineChild(config: { servers: unknown[]; dir: string; shiftMs: number }) {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, ENGINE_CHILD_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return child;
}

/** Polls until `predicate` holds, a bounded number of times. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 20) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
