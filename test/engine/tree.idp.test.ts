import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { startGateway, startIdp, type Gateway, type Idp } from '../../lab/index.mjs';
import type { EngineEvent } from '../../src/runtime/index.js';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { browserEnv, machineServer, tempDir, userServer } from './support.js';

// One actor tree per provider: registry → tokenLifecycle → flow machine, all children, so an inspector
// sees a login or an acquisition under its provider (issue 8 item 1).
let idp: Idp;
let gateway: Gateway;
const engines: TokenEngine[] = [];

const machineIdOf = (ref: unknown) => ((ref as AnyActorRef | undefined)?.getSnapshot() as { machine?: { id: string } } | undefined)?.machine?.id;
const parentOf = (ref: unknown) => (ref as { _parent?: AnyActorRef })._parent;

beforeAll(async () => {
  idp = await startIdp({ accessTokenTtl: 300 });
  gateway = await startGateway({ idp });
});
afterEach(() => engines.splice(0).forEach((e) => e.stop()));
afterAll(async () => {
  await gateway.stop();
  await idp.stop();
});

describe('one actor tree per provider', () => {
  it("a client_credentials acquisition: the flow machine's events arrive with its lifecycle as parent, under the registry", async () => {
    const dir = await tempDir();
    const events: InspectionEvent[] = [];
    const engine = createTokenEngine({ servers: [machineServer(idp)], store: createFileStore({ dir }), notify: () => {}, inspect: (e) => void events.push(e) });
    engines.push(engine);
    await engine.getToken('svc');

    const flowEvents = events.filter((e) => e.type === '@xstate.event' && machineIdOf(e.actorRef) === 'assertionGrant');
    expect(flowEvents.length).toBeGreaterThan(0);
    for (const event of flowEvents) {
      const lifecycle = parentOf(event.actorRef)!;
      expect(lifecycle.id).toBe('token:svc');
      expect(machineIdOf(lifecycle)).toBe('tokenLifecycle');
      expect(parentOf(lifecycle)!.id).toBe('oauth-engine');
    }
    // No orphan: every machine actor the engine started has a parent, except the registry itself.
    const roots = events.filter((e) => e.type === '@xstate.actor' && !parentOf(e.actorRef)).map((e) => (e.actorRef as AnyActorRef).id);
    expect(roots).toEqual(['oauth-engine']);
  });

  it('a browser login: the authorizationCode machine runs as the lifecycle\'s child', async () => {
    const events: InspectionEvent[] = [];
    const dir = await tempDir();
    const withStore = createTokenEngine({
      servers: [userServer(idp)],
      store: createFileStore({ dir }),
      notify: () => {},
      flowDeps: { env: browserEnv() },
      inspect: (event) => void events.push(event),
    });
    engines.push(withStore);
    await withStore.login('corp');
    const flowActors = events.filter((e) => e.type === '@xstate.actor' && machineIdOf(e.actorRef) === 'authorizationCode');
    expect(flowActors).toHaveLength(1);
    expect(parentOf(flowActors[0]!.actorRef)!.id).toBe('token:corp');
  });

  it('modelSync runs beside its lifecycle under the registry; models.changed is an engine event', async () => {
    const events: InspectionEvent[] = [];
    const changed: EngineEvent[] = [];
    const engine = createTokenEngine({
      servers: [machineServer(idp)],
      store: createFileStore({ dir: await tempDir() }),
      notify: () => {},
      inspect: (e) => void events.push(e),
      models: { svc: { baseURL: gateway.baseURL, intervalMs: 3_600_000 } },
    });
    engines.push(engine);
    engine.on('models.changed', (event) => void changed.push(event));
    const sync = engine.modelSync('svc')!;
    await new Promise<void>((resolve) => {
      if (sync.getSnapshot().matches('scheduled')) return resolve();
      const s = sync.subscribe((snapshot) => snapshot.matches('scheduled') && (s.unsubscribe(), resolve()));
    });
    expect(sync.id).toBe('models:svc');
    expect(parentOf(sync)!.id).toBe('oauth-engine');
    expect(changed).toEqual([expect.objectContaining({ type: 'models.changed', providerId: 'svc', previous: null })]);
    expect((changed[0] as Extract<EngineEvent, { type: 'models.changed' }>).models.map((m) => m.id)).toContain('lab-model');
    // Its token came through the lifecycle: one acquisition, seen as the lifecycle's child.
    expect(events.some((e) => e.type === '@xstate.actor' && machineIdOf(e.actorRef) === 'assertionGrant' && parentOf(e.actorRef)!.id === 'token:svc')).toBe(true);
    expect(engine.modelSync('nope')).toBeUndefined();
  });
});
