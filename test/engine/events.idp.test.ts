import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../../lab/index.mjs';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import type { FlowNotice } from '../../src/flows/index.js';
import { createTokenEngine, type EngineEvent, type TokenEngine } from '../../src/runtime/index.js';
import { browserEnv, machineServer, tempDir, until, userServer } from './support.js';

// Engine events instead of log lines and side channels (issue 8 item 2).
let idp: Idp;
const engines: TokenEngine[] = [];

const engine = async (servers: unknown[], extra: Partial<Parameters<typeof createTokenEngine>[0]> = {}) => {
  const created = createTokenEngine({ servers, store: createFileStore({ dir: await tempDir() }), notify: () => {}, ...extra });
  engines.push(created);
  return created;
};

beforeAll(async () => {
  idp = await startIdp({ accessTokenTtl: 300 });
});
afterEach(() => engines.splice(0).forEach((e) => e.stop()));
afterAll(async () => {
  await idp.stop();
});

describe('engine.on', () => {
  it('token.renewed and token.failed, typed, per provider; the unsubscribe stops delivery', async () => {
    const seen: EngineEvent[] = [];
    const machine = await engine([machineServer(idp), machineServer(idp, { id: 'broken', clientSecret: 'wrong-secret-value' })]);
    const offRenewed = machine.on('token.renewed', (event) => void seen.push(event));
    machine.on('token.failed', (event) => void seen.push(event));
    const token = await machine.getToken('svc');
    await machine.getToken('broken').catch(() => undefined);
    expect(seen).toEqual([
      { type: 'token.renewed', providerId: 'svc', how: 'acquired', generation: 1, expiresAt: token.expiresAt },
      expect.objectContaining({ type: 'token.failed', providerId: 'broken', error: expect.objectContaining({ code: 'invalid_client' }) }),
    ]);
    expect(JSON.stringify(seen)).not.toContain(token.accessToken);
    offRenewed();
    await machine.logout('svc');
    await machine.getToken('svc');
    expect(seen.filter((e) => e.type === 'token.renewed')).toHaveLength(1);
  });

  it('a listener that throws is isolated: the engine and the other listeners carry on', async () => {
    const machine = await engine([machineServer(idp)]);
    const other: string[] = [];
    machine.on('token.renewed', () => {
      throw new Error('listener bug');
    });
    machine.on('token.renewed', (event) => void other.push(event.providerId));
    await expect(machine.getToken('svc')).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(other).toEqual(['svc']);
  });
});

describe('engine.login(id, { onNotice, signal })', () => {
  it("onNotice gets this login's notices instead of notify; login.notice is emitted for every notice", async () => {
    const notified: unknown[] = [];
    const user = await engine([userServer(idp)], { notify: (n) => void notified.push(n), flowDeps: { env: browserEnv() } });
    const emitted: EngineEvent[] = [];
    user.on('login.notice', (event) => void emitted.push(event));
    const notices: FlowNotice[] = [];
    const token = await user.login('corp', { onNotice: (notice) => void notices.push(notice) });
    expect((await idp.introspect(token.accessToken)).active).toBe(true);
    expect(notices.length).toBeGreaterThan(0);
    expect(notices.every((n) => n.text.includes('corp'))).toBe(true);
    expect(notified).toEqual([]);
    expect(emitted.map((e) => e.type === 'login.notice' && e.notice)).toEqual(notices);
  });

  it('aborting the signal cancels the login: it rejects with the reason and the loopback server closes', async () => {
    // No browser completes this login: it waits on the loopback redirect until cancelled.
    const user = await engine([userServer(idp)], { flowDeps: { env: { ...process.env, BROWSER: '/nonexistent/browser' } } });
    const controller = new AbortController();
    let redirect: string | undefined;
    const pending = user.login('corp', {
      signal: controller.signal,
      onNotice: (notice) => {
        redirect ??= /on (http:\/\/127\.0\.0\.1:\d+\S*)/.exec(notice.text)?.[1];
      },
    });
    await until(() => redirect !== undefined);
    controller.abort(new Error('user closed the dialog'));
    await expect(pending).rejects.toThrow('user closed the dialog');
    await until(() => user.status()[0]!.state !== 'renewing');
    expect(user.status()[0]!.state).not.toBe('renewing');
    await expect(fetch(redirect!.replace(/\.$/, ''))).rejects.toThrow();
  });
});
