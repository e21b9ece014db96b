import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { startIdp, type Idp } from '../../lab/index.mjs';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { browserEnv, machineServer, tempDir, userServer } from './support.js';

// One actor tree per provider: registry → tokenLifecycle → flow machine, all children, so an inspector
// sees a login or an acquisition under its provider (issue 8 item 1).
let idp: Idp;
const engines: TokenEngine[] = [];

const machineIdOf = (ref: unknown) => ((ref as AnyActorRef | undefined)?.getSnapshot() as { machine?: { id: string } } | undefined)?.machine?.id;
const parentOf = (ref: unknown) => (ref as { _parent?: AnyActorRef })._parent;

beforeAll(async () => {
  idp = await startIdp({ accessTokenTtl: 300 });
});
afterEach(() => engines.splice(0).forEach((e) => e.stop()));
afterAll(async () => {
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
});
