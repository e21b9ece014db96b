/**
 * Model-based testing of the flow machines (reference/xstate-graph.md §5): paths come from the real
 * machine (shortest paths + one path per edge), each is replayed on a real actor whose invoked actors are
 * controllable fakes, and state, context and status are compared after every step. Coverage is measured
 * on the real actors with the inspection API, not on the graph.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  __unsafe_getAllOwnEventDescriptors,
  createActor,
  fromCallback,
  fromPromise,
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  type InspectionEvent,
  transition,
} from 'xstate';
import { getShortestPaths, getStateNodes, type StatePath } from 'xstate/graph';

type AnyStateNode = ReturnType<typeof getStateNodes>[number];
type Path = StatePath<AnyMachineSnapshot, EventObject>;

export interface Deferred {
  input: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Controllable stand-ins for a machine's invoked actors, keyed by invoke id. */
export class Fakes {
  readonly pending = new Map<string, Deferred>();
  readonly inputs = new Map<string, unknown[]>();
  readonly openCallbacks = new Set<string>();

  promise(id: string) {
    return fromPromise<any, any>(
      ({ input }) =>
        new Promise((resolve, reject) => {
          this.pending.set(id, { input, resolve, reject });
          this.inputs.set(id, [...(this.inputs.get(id) ?? []), input]);
        }),
    );
  }

  /** A callback actor that only records whether it is running (the machine is sent its events directly). */
  callback(id: string) {
    return fromCallback<EventObject, any>(({ input }) => {
      this.openCallbacks.add(id);
      this.inputs.set(id, [...(this.inputs.get(id) ?? []), input]);
      return () => this.openCallbacks.delete(id);
    });
  }
}

export interface ModelSpec<TInput> {
  /** Name printed in the coverage line. */
  name: string;
  machine: AnyStateMachine;
  variants: Record<string, TInput>;
  /** Payload variants per event type; types come from the machine's own descriptors. */
  payloads: Record<string, object[]>;
  /** Which fake each invoke src gets: a promise (default) or a callback actor. */
  callbackActors?: string[];
  /** Map invoke src → invoke id (the fake's key). */
  invokeIds: Record<string, string>;
  /** Vertex identity (default: value + context). */
  serializeState?: (s: AnyMachineSnapshot) => string;
  /** Keep the graph finite: drop events that would only grow a counter further. */
  eventFilter?: (s: AnyMachineSnapshot, e: EventObject & Record<string, any>) => boolean;
  /** Named actions replaced by spies so tests can see them. */
  actions?: Record<string, (...args: any[]) => void>;
  /** Extra checks after every step. */
  check?: (snapshot: AnyMachineSnapshot, fakes: Fakes) => void;
}

const defaultSerialize = (s: AnyMachineSnapshot) => JSON.stringify({ value: s.value, context: s.context });

function eventsFor(payloads: Record<string, object[]>, filter?: ModelSpec<unknown>['eventFilter']) {
  return (s: AnyMachineSnapshot) =>
    (s.status !== 'active'
      ? [] // a done snapshot still "transitions" in pure traversal; a real actor ignores it
      : __unsafe_getAllOwnEventDescriptors(s)
          .flatMap((type) => (payloads[type] ?? [{}]).map((p) => ({ type, ...p })))
          .filter((e) => !filter || filter(s, e))) as EventObject[];
}

/**
 * Shortest paths to every state, plus for every state u and every event u handles, the shortest path to u
 * followed by that event (the edge-coverage generator of xstate-graph.md §5). The edge's target is
 * computed from the path's own last snapshot, so the whole path is one consistent run even when the
 * vertex identity projects context away.
 */
export function modelPaths<TInput>(spec: ModelSpec<TInput>, input: TInput): Path[] {
  const serializeState = spec.serializeState ?? defaultSerialize;
  const events = eventsFor(spec.payloads, spec.eventFilter as ModelSpec<unknown>['eventFilter']);
  const shortest = getShortestPaths(spec.machine, { input, events, serializeState } as any) as Path[];
  const edgePaths: Path[] = [];
  for (const head of shortest) {
    for (const event of events(head.state)) {
      const [next] = transition(spec.machine, head.state, event as any);
      edgePaths.push({ state: next, steps: [...head.steps, { event, state: next }], weight: head.steps.length + 1 } as Path);
    }
  }
  const all = [...shortest, ...edgePaths];
  const key = (p: Path) => p.steps.map((s) => JSON.stringify(s.event)).join('\n');
  const unique = [...new Map(all.map((p) => [key(p), p])).values()];
  // Drop strict prefixes: the longer path replays the same steps and asserts them too.
  return unique.filter((p) => !unique.some((q) => q !== p && q.steps.length > p.steps.length && key(q).startsWith(key(p) + '\n')));
}

export function pathName(p: Path): string {
  const steps = p.steps.slice(1).map((s) => {
    const e = s.event as EventObject & { output?: any; error?: any; result?: any };
    const detail = e.error?.oauthError ?? e.error?.code ?? e.result?.reason ?? e.result?.kind;
    const name = e.type
      .replace(/^xstate\.done\.actor\.(.+)$/, '$1 ok')
      .replace(/^xstate\.error\.actor\.(.+)$/, '$1 failed')
      .replace(/^xstate\.after\.(\w+)\..*$/, 'after $1');
    return detail ? `${name}(${detail})` : name;
  });
  const end = typeof p.state.value === 'string' ? p.state.value : JSON.stringify(p.state.value);
  return `${steps.join(' → ') || 'start'} ⇒ ${end}`;
}

/** Coverage measured on real actors: stable states entered and transition definitions taken. */
export class Coverage {
  readonly states = new Set<string>();
  readonly transitions = new Set<string>();
  constructor(
    readonly name: string,
    readonly machine: AnyStateMachine,
  ) {}

  private nodes(): AnyStateNode[] {
    return [this.machine.root, ...getStateNodes(this.machine.root)] as AnyStateNode[];
  }

  /** States the machine can rest in: not the root, not an eventless decision node. */
  stableStates(): string[] {
    return this.nodes()
      .filter((n) => n !== this.machine.root)
      .filter((n) => !(n.always ?? []).some((t: any) => !t.guard))
      .map((n) => n.id);
  }

  static transitionKey(t: any): string {
    const always = (t.source.always ?? []) as unknown[];
    if (always.includes(t)) return `${t.source.id} always #${always.indexOf(t)}`;
    const list = (t.source.transitions.get(t.eventType) ?? []) as unknown[];
    return `${t.source.id} ${t.eventType} #${list.indexOf(t)}`;
  }

  allTransitions(): string[] {
    const keys: string[] = [];
    for (const n of this.nodes()) {
      for (const [, list] of n.transitions) (list as unknown[]).forEach((t) => keys.push(Coverage.transitionKey(t)));
      (n.always ?? []).forEach((t: unknown) => keys.push(Coverage.transitionKey(t)));
    }
    return keys;
  }

  /** Inspection observer for the root actor (children, the invoked fakes, have a parent). */
  inspect = (ev: InspectionEvent) => {
    if ((ev.actorRef as any)._parent !== undefined) return;
    if (ev.type === '@xstate.microstep') {
      for (const t of (ev as any)._transitions) this.transitions.add(Coverage.transitionKey(t));
    }
    if (ev.type === '@xstate.snapshot') {
      for (const n of ((ev.snapshot as any)._nodes ?? []) as AnyStateNode[]) this.states.add(n.id);
    }
  };

  line(): string {
    const stable = this.stableStates();
    const all = this.allTransitions();
    const s = stable.filter((id) => this.states.has(id)).length;
    const t = all.filter((k) => this.transitions.has(k)).length;
    return `model coverage ${this.name}: states ${s}/${stable.length}, transitions ${t}/${all.length}`;
  }

  missing(): { states: string[]; transitions: string[] } {
    return {
      states: this.stableStates().filter((id) => !this.states.has(id)),
      transitions: this.allTransitions().filter((k) => !this.transitions.has(k)),
    };
  }
}

const flush = () => new Promise<void>((r) => setImmediate(r)); // setImmediate stays real under the fake timers

/** Fire one delayed transition: by the clock when it is the next timer due, else at its due time directly. */
async function fireDelayed(actor: AnyActorRef, type: string) {
  const scheduled = Object.values((actor.system as any)._snapshot._scheduledEvents) as {
    event: EventObject;
    delay: number;
    startedAt: number;
  }[];
  const target = scheduled.find((s) => s.event.type === type);
  expect(target, `a timer for ${type} is pending`).toBeDefined();
  const due = target!.startedAt + target!.delay;
  const earlier = scheduled.some((s) => s !== target && s.startedAt + s.delay < due);
  if (!earlier) {
    await vi.advanceTimersByTimeAsync(due - Date.now());
  } else {
    // Another timer of an enclosing/sibling state is due first with these inputs; the graph says this
    // edge exists for other timings, so deliver it at its own due time without firing the earlier one.
    vi.setSystemTime(due);
    actor.send(target!.event);
  }
  await flush();
}

export async function replay<TInput>(spec: ModelSpec<TInput>, path: Path, input: TInput, coverage: Coverage) {
  const fakes = new Fakes();
  const actors: Record<string, unknown> = {};
  for (const [src, id] of Object.entries(spec.invokeIds)) {
    actors[src] = spec.callbackActors?.includes(src) ? fakes.callback(id) : fakes.promise(id);
  }
  const machine = spec.machine.provide({ actors, actions: spec.actions ?? {} } as any);
  const actor = createActor(machine, { input, inspect: coverage.inspect } as any);
  actor.start();
  try {
    for (const { event, state } of path.steps) {
      const e = event as EventObject & { output?: unknown; error?: unknown };
      const settle = /^xstate\.(done|error)\.actor\.(.+)$/.exec(e.type);
      if (e.type === 'xstate.init') {
        await flush();
      } else if (e.type.startsWith('xstate.after.')) {
        await fireDelayed(actor, e.type);
      } else if (settle) {
        const deferred = fakes.pending.get(settle[2]!);
        expect(deferred, `invoke ${settle[2]} is running`).toBeDefined();
        fakes.pending.delete(settle[2]!);
        if (settle[1] === 'done') deferred!.resolve(e.output);
        else deferred!.reject(e.error);
        await flush();
      } else {
        actor.send(e);
        await flush();
      }
      const snap = actor.getSnapshot();
      expect({ value: snap.value, context: snap.context, status: snap.status }).toEqual({
        value: state.value,
        context: state.context,
        status: state.status,
      });
      if (snap.status === 'done') expect(snap.output).toEqual(state.output);
      spec.check?.(snap, fakes);
    }
  } finally {
    actor.stop();
  }
  return fakes;
}

/** The whole model test of one machine: every variant's paths replayed, then full coverage asserted. */
export function describeModel<TInput>(spec: ModelSpec<TInput>, extra?: (paths: Record<string, Path[]>) => void) {
  const coverage = new Coverage(spec.name, spec.machine);
  const pathsByVariant: Record<string, Path[]> = {};
  beforeEach(() => {
    vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  for (const [variant, input] of Object.entries(spec.variants)) {
    const paths = modelPaths(spec, input);
    pathsByVariant[variant] = paths;
    describe(`${spec.name} (${variant})`, () => {
      it('has paths to replay', () => expect(paths.length).toBeGreaterThan(0));
      for (const p of paths) {
        it(pathName(p), async () => {
          await replay(spec, p, input, coverage);
        });
      }
    });
  }
  extra?.(pathsByVariant);
  it(`covers every stable state and every transition of ${spec.name}`, () => {
    console.log(coverage.line());
    expect(coverage.missing()).toEqual({ states: [], transitions: [] });
  });
}
