import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { startIdp, type Idp } from '../../lab/index.mjs';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { machineServer, tempDir, until } from './support.js';

// The hot path (issue 8 item 7): a valid, published token is read without any event to an actor; the soft
// and hard windows are still honoured, and the background renewal is still single flight.
let idp: Idp;
const engines: TokenEngine[] = [];

beforeAll(async () => {
  idp = await startIdp({ accessTokenTtl: 300 });
});
afterEach(() => engines.splice(0).forEach((e) => e.stop()));
afterAll(async () => {
  await idp.stop();
});

async function machineEngine(shift: { ms: number }) {
  const events: InspectionEvent[] = [];
  const engine = createTokenEngine({
    servers: [machineServer(idp)],
    store: createFileStore({ dir: await tempDir() }),
    notify: () => {},
    now: () => Date.now() + shift.ms,
    inspect: (event) => void events.push(event),
  });
  engines.push(engine);
  return { engine, events };
}

const eventsSentTo = (events: InspectionEvent[], actorId: string) =>
  events.filter((e) => e.type === '@xstate.event' && (e.actorRef as { id?: string }).id === actorId).length;

describe('hot path', () => {
  it('a fresh token: 100 reads send the lifecycle no event and the IdP no request', async () => {
    const shift = { ms: 0 };
    const { engine, events } = await machineEngine(shift);
    const first = await engine.getToken('svc');
    idp.resetCounters();
    const before = eventsSentTo(events, 'token:svc');
    for (let i = 0; i < 100; i++) expect((await engine.getToken('svc')).accessToken).toBe(first.accessToken);
    expect(eventsSentTo(events, 'token:svc')).toBe(before);
    expect(idp.counters.token).toEqual({});
  });

  it('the soft window: the held token is served and one background renewal runs for 50 readers', async () => {
    const shift = { ms: 0 };
    const { engine } = await machineEngine(shift);
    const first = await engine.getToken('svc');
    idp.resetCounters();
    shift.ms = 200_000; // past the soft margin of a 300 s token, before its hard deadline
    const served = await Promise.all(Array.from({ length: 50 }, () => engine.getToken('svc')));
    expect(served.every((t) => t.accessToken === first.accessToken)).toBe(true);
    await until(() => engine.status()[0]!.state === 'valid' && idp.grantCount('client_credentials').requests === 1);
    expect((await engine.getToken('svc')).accessToken).not.toBe(first.accessToken);
    expect(idp.grantCount('client_credentials').requests).toBe(1);
  });

  it('past the hard deadline the held token is never served: callers wait for the renewal', async () => {
    const shift = { ms: 0 };
    const { engine } = await machineEngine(shift);
    const first = await engine.getToken('svc');
    shift.ms = 290_000;
    const next = await engine.getToken('svc');
    expect(next.accessToken).not.toBe(first.accessToken);
    expect((await idp.introspect(next.accessToken)).active).toBe(true);
  });

  it('currentHeaders: the headers of a servable token synchronously, none before the first token, past the hard deadline or for an unknown provider', async () => {
    const shift = { ms: 0 };
    const { engine, events } = await machineEngine(shift);
    expect(engine.currentHeaders('svc')).toBeUndefined();
    expect(engine.currentHeaders('nope')).toBeUndefined();
    const first = await engine.getToken('svc');
    const before = eventsSentTo(events, 'token:svc');
    expect(engine.currentHeaders('svc')).toEqual(await engine.headers('svc'));
    expect(engine.currentHeaders('svc')!['authorization'] ?? engine.currentHeaders('svc')!['Authorization']).toBe(`Bearer ${first.accessToken}`);
    expect(eventsSentTo(events, 'token:svc')).toBe(before);
    shift.ms = 290_000;
    expect(engine.currentHeaders('svc')).toBeUndefined();
  });
});
