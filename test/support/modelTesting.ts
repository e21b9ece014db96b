/**
 * Model-based testing for the project's machines (reference/xstate-graph.md §5): paths are generated from
 * the real machine with xstate/graph, replayed on a real actor whose invoked actors are controllable fakes,
 * the actor's state, context, status and output are compared with the model's after every step, and every
 * state node and transition definition the replays take is counted against the machine's own definition.
 */
import { setImmediate as realSetImmediate } from 'node:timers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  __unsafe_getAllOwnEventDescriptors,
  createActor,
  fromCallback,
  fromPromise,
  initialTransition,
  transition,
  type AnyActorLogic,
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  type InspectionEvent,
} from 'xstate';
import { getAdjacencyMap, getShortestPaths, getStateNodes, type StatePath } from 'xstate/graph';

export type Path = StatePath<AnyMachineSnapshot, EventObject>;
type AnyStateNode = ReturnType<typeof getStateNodes>[number];
type TransitionDef = { source: AnyStateNode; eventType: string };
/** An event with its payload, as the test's payload variants and the guards see it. */
type PayloadEvent = EventObject & Record<string, any>;
type EdgeKey = (source: AnyMachineSnapshot, event: EventObject, target: AnyMachineSnapshot) => string;

export interface ModelSpec<TInput> {
  /** Name printed in the coverage line. */
  name: string;
  machine: AnyStateMachine;
  /** Machine inputs to explore, each named for the test list. */
  variants: Record<string, TInput>;
  /** Every invoked actor source, replaced by a fake: a promise the path settles, or a callback actor. */
  fakes: Record<string, 'promise' | 'callback'>;
  /** Payload variants per event type; the types come from the machine's own descriptors. */
  payloads: Record<string, object[]>;
  /** Keep the graph finite: drop events that would only grow a counter further. */
  eventFilter?: (snapshot: AnyMachineSnapshot, event: PayloadEvent) => boolean;
  /** Vertex identity (default: state value + context). */
  serializeState?: (snapshot: AnyMachineSnapshot) => string;
  /** Merge edges into one test (default: one test per edge of the vertex graph); see `byStateValues`. */
  edgeKey?: EdgeKey;
  /** The fake clock at the start of every replay (default 0). */
  now?: number;
  /** Fewest paths each variant must yield, so a model that stopped exploring fails (default 1). */
  minPaths?: number;
  /** Extra checks on the real actor's snapshot after every step. */
  check?: (snapshot: AnyMachineSnapshot, run: Run<TInput>) => void;
}

/** One replay in progress, as `check` sees it. */
export interface Run<TInput> {
  input: TInput;
  path: Path;
  fakes: Fakes;
  /** The actor's snapshot after each step so far, the current one last. */
  history: AnyMachineSnapshot[];
  /** Events the actor emitted so far. */
  emitted: EventObject[];
}

/**
 * The whole model test of one machine: every variant's paths replayed with the spec's checks after every
 * step, then a test that prints the coverage line and asserts that no state or transition was missed.
 */
export function describeModel<TInput>(spec: ModelSpec<TInput>) {
  const coverage = createCoverage(spec.machine, spec.name);
  for (const [variant, input] of Object.entries(spec.variants)) {
    describe(`${spec.name} model, ${variant}`, () => {
      beforeEach(() => {
        fakeTimers(spec.now ?? 0);
      });
      afterEach(() => {
        vi.useRealTimers();
      });
      const paths = edgeCoveragePaths(spec.machine, {
        input,
        events: eventsWith(spec.payloads, spec.eventFilter),
        serializeState: spec.serializeState,
        edgeKey: spec.edgeKey,
      });
      it('has paths to replay', () => expect(paths.length).toBeGreaterThanOrEqual(spec.minPaths ?? 1));
      for (const path of paths) it(pathName(path), () => replay(spec, path, input, coverage));
    });
  }
  it(`covers every state and every transition of ${spec.name}`, () => expectFullCoverage(coverage));
}

/** Prints the machine's `model coverage` line and fails on any state or transition no replay took. */
export function expectFullCoverage(coverage: ReturnType<typeof createCoverage>) {
  const report = coverage.report();
  console.log(report.line);
  expect(report.missedStates).toEqual([]);
  expect(report.missedTransitions).toEqual([]);
}

/** Events to explore in a state: the ones it handles, each with every payload variant the test supplies. */
function eventsWith(payloads: Record<string, object[]>, filter?: ModelSpec<unknown>['eventFilter']) {
  return (snapshot: AnyMachineSnapshot): EventObject[] =>
    snapshot.status !== 'active'
      ? [] // a done snapshot still "transitions" in pure traversal; a real actor ignores it
      : __unsafe_getAllOwnEventDescriptors(snapshot)
          .flatMap((type): PayloadEvent[] => (payloads[type] ?? [{}]).map((payload) => ({ type, ...payload })))
          .filter((event) => !filter || filter(snapshot, event));
}

const valueAndContext = (s: AnyMachineSnapshot) => JSON.stringify({ value: s.value, context: s.context });

/**
 * Edge key that makes edges with the same source and target state values and event one test. For machines
 * whose contexts differ in ways the guards do not read (timestamps, errors), which would otherwise multiply
 * the paths without new coverage; the coverage check after the replays proves nothing was lost.
 */
export const byStateValues: EdgeKey = (source, event, target) => {
  // A transition taken without changing the state value (targetless, with actions) still counts as its own
  // edge; one whose guard failed leaves the snapshot as it was.
  const changed =
    JSON.stringify(source.value) !== JSON.stringify(target.value) || JSON.stringify(source.context) !== JSON.stringify(target.context);
  return JSON.stringify([source.value, event, target.value, changed]);
};

/**
 * One path per edge of the adjacency graph: the shortest path to the edge's source, then the edge.
 * Covers every reachable transition; edges with the same `edgeKey` are one path, and repeats and strict
 * prefixes of another path are dropped (the longer path replays and asserts the same steps).
 */
function edgeCoveragePaths(
  machine: AnyStateMachine,
  options: {
    input: unknown;
    events: (s: AnyMachineSnapshot) => EventObject[];
    serializeState?: (s: AnyMachineSnapshot) => string;
    edgeKey?: EdgeKey;
  },
): Path[] {
  const serializeState = options.serializeState ?? valueAndContext;
  const traversal = { input: options.input, events: options.events, serializeState } as never;
  const adjacency = getAdjacencyMap(machine, traversal);
  const shortest = new Map<string, Path>();
  for (const path of getShortestPaths(machine, traversal) as Path[]) shortest.set(serializeState(path.state), path);
  const candidates: (Path & { source?: AnyMachineSnapshot })[] = [];
  // Vertices may merge snapshots whose contexts differ, so the expected snapshots are recomputed by running
  // the path's own events through the pure transition function.
  const candidate = (events: EventObject[]) => {
    const steps = recompute(machine, options.input, events);
    candidates.push({ state: steps.at(-1)!.state, steps, weight: steps.length, source: steps.at(-2)?.state });
  };
  for (const [vertex, { transitions }] of Object.entries(adjacency)) {
    const head = shortest.get(vertex);
    if (!head) continue;
    const edges = Object.values(transitions) as { event: EventObject }[];
    // A vertex without edges (e.g. a machine that ends at once) is still reached and asserted.
    if (edges.length === 0) candidate(head.steps.map((s) => s.event));
    for (const { event } of edges) candidate([...head.steps.map((s) => s.event), event]);
  }
  candidates.sort((a, b) => a.weight - b.weight);
  const taken = new Set<string>();
  const edgeKey = options.edgeKey;
  const paths = !edgeKey
    ? candidates
    : candidates.filter((p) => {
        if (!p.source) return true;
        const key = edgeKey(p.source, p.steps.at(-1)!.event, p.state);
        if (taken.has(key)) return false;
        taken.add(key);
        return true;
      });
  const key = (p: Path) => p.steps.map((s) => JSON.stringify(s.event)).join('\n');
  const unique = [...new Map(paths.map((p) => [key(p), p])).values()];
  const keys = unique.map(key);
  return unique.filter((_, i) => !keys.some((other, j) => j !== i && other.length > keys[i]!.length && other.startsWith(keys[i]! + '\n')));
}

function recompute(machine: AnyStateMachine, input: unknown, events: EventObject[]): Path['steps'] {
  let [state] = initialTransition(machine, input);
  const steps: Path['steps'] = [{ event: events[0]!, state }];
  for (const event of events.slice(1)) {
    [state] = transition(machine, state, event);
    steps.push({ event, state });
  }
  return steps;
}

/** Human-readable name of a path for the test list: the steps with the error or result that matters, and the end state. */
export function pathName(path: Path): string {
  const steps = path.steps.slice(1).map((s) => {
    const e = s.event as PayloadEvent;
    const detail = e.error?.oauthError ?? e.error?.code ?? e.result?.reason ?? e.result?.kind;
    const name = e.type
      .replace(/^xstate\.done\.actor\.(.+)$/, '$1 ok')
      .replace(/^xstate\.error\.actor\.(.+)$/, '$1 failed')
      .replace(/^xstate\.after\.(\w+)\..*$/, 'after $1');
    return detail ? `${name}(${detail})` : name;
  });
  const end = typeof path.state.value === 'string' ? path.state.value : JSON.stringify(path.state.value);
  return `${steps.join(' → ') || 'start'} ⇒ ${end}`;
}

const transitionKey = (t: TransitionDef, index: number) => `${t.source.id}|${t.eventType || 'always'}|${index}`;

/** Every state node (minus the root and transient decision nodes) and every transition definition. */
function machineInventory(machine: AnyStateMachine) {
  const nodes = [machine.root as AnyStateNode, ...getStateNodes(machine.root)];
  const transitions = new Set<string>();
  const states = new Set<string>();
  for (const node of nodes) {
    for (const [, defs] of node.transitions) defs.forEach((t, i) => transitions.add(transitionKey(t as TransitionDef, i)));
    node.always?.forEach((t, i) => transitions.add(transitionKey(t as TransitionDef, i)));
    const transient = !!node.always?.length;
    if (node !== machine.root && !transient) states.add(node.id);
  }
  return { states, transitions };
}

/** Collects the state nodes entered and transition definitions taken by real actors, via `inspect`. */
export function createCoverage(machine: AnyStateMachine, name: string) {
  const inventory = machineInventory(machine);
  const seenStates = new Set<string>();
  const seenTransitions = new Set<string>();
  const inspect = (event: InspectionEvent) => {
    if (event.type === '@xstate.snapshot') {
      const snapshot = event.snapshot as AnyMachineSnapshot;
      if (snapshot.machine?.id !== machine.id) return;
      for (const node of snapshot._nodes ?? []) seenStates.add(node.id);
    }
    if (event.type === '@xstate.microstep') {
      for (const t of (event as unknown as { _transitions: TransitionDef[] })._transitions) {
        if (t.source.machine.id !== machine.id) continue;
        const list = t.eventType ? t.source.transitions.get(t.eventType) : t.source.always;
        const index = (list as unknown[] | undefined)?.indexOf(t) ?? -1;
        seenTransitions.add(transitionKey(t, index));
      }
    }
  };
  return {
    inspect,
    report() {
      const states = [...inventory.states].filter((s) => seenStates.has(s)).length;
      const transitions = [...inventory.transitions].filter((t) => seenTransitions.has(t)).length;
      return {
        missedStates: [...inventory.states].filter((s) => !seenStates.has(s)),
        missedTransitions: [...inventory.transitions].filter((t) => !seenTransitions.has(t)),
        line: `model coverage ${name}: states ${states}/${inventory.states.size}, transitions ${transitions}/${inventory.transitions.size}`,
      };
    },
  };
}

export interface Deferred {
  input: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Controllable stand-ins for a machine's invoked actors, keyed by invoke id (`self.id`), so one actor
 * source invoked from several states (e.g. readStore) is told apart per invocation.
 */
export class Fakes {
  readonly pending = new Map<string, Deferred>();
  /** Every input each invoke id was started with, in order. */
  readonly inputs = new Map<string, unknown[]>();
  private readonly open = new Map<string, number>();

  /** A promise actor that waits for the replay to settle it. */
  promise(): AnyActorLogic {
    return fromPromise<unknown, unknown>(
      ({ input, self }) =>
        new Promise((resolve, reject) => {
          this.pending.set(self.id, { input, resolve, reject });
          this.record(self.id, input);
        }),
    );
  }

  /** A callback actor that only records that it runs (the replay sends the machine its events directly). */
  callback(): AnyActorLogic {
    return fromCallback<EventObject, unknown>(({ input, self }) => {
      this.open.set(self.id, this.running(self.id) + 1);
      this.record(self.id, input);
      return () => this.open.set(self.id, this.running(self.id) - 1);
    });
  }

  /** How many callback actors with this invoke id run now. */
  running(id: string): number {
    return this.open.get(id) ?? 0;
  }

  async settle(id: string, outcome: 'done' | 'error', value: unknown) {
    const deferred = this.pending.get(id);
    expect(deferred, `invoke ${id} is running`).toBeDefined();
    this.pending.delete(id);
    if (outcome === 'done') deferred!.resolve(value);
    else deferred!.reject(value);
    await flush();
  }

  private record(id: string, input: unknown) {
    this.inputs.set(id, [...(this.inputs.get(id) ?? []), input]);
  }
}

/** Lets promise callbacks run; setImmediate stays real under the fake timers used here. */
export const flush = () => new Promise<void>((resolve) => realSetImmediate(resolve));

export const fakeTimers = (now: number) => vi.useFakeTimers({ now, toFake: ['setTimeout', 'clearTimeout', 'Date'] });

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

/**
 * Replays one path on a started actor: delays fire on the fake clock, invoked actors are settled from the
 * path's own done/error events, other events are sent; the snapshot is compared after every step.
 */
async function replay<TInput>(spec: ModelSpec<TInput>, path: Path, input: TInput, coverage: ReturnType<typeof createCoverage>) {
  const fakes = new Fakes();
  const actors = Object.fromEntries(
    Object.entries(spec.fakes).map(([src, kind]) => [src, kind === 'callback' ? fakes.callback() : fakes.promise()]),
  );
  const actor = createActor(spec.machine.provide({ actors } as never), { input, inspect: coverage.inspect });
  const run: Run<TInput> = { input, path, fakes, history: [], emitted: [] };
  actor.on('*', (event: EventObject) => run.emitted.push(event));
  actor.start();
  try {
    for (const { event, state } of path.steps) {
      const settled = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event.type);
      if (event.type === 'xstate.init') {
        await flush();
      } else if (event.type.startsWith('xstate.after.')) {
        await fireDelayed(actor, event.type);
      } else if (settled) {
        const e = event as PayloadEvent;
        await fakes.settle(settled[2]!, settled[1] as 'done' | 'error', settled[1] === 'done' ? e.output : e.error);
      } else {
        actor.send(event);
        await flush();
      }
      const snapshot = actor.getSnapshot();
      expect({ value: snapshot.value, context: snapshot.context, status: snapshot.status }).toEqual({
        value: state.value,
        context: state.context,
        status: state.status,
      });
      if (snapshot.status === 'done') expect(snapshot.output).toEqual(state.output);
      run.history.push(snapshot);
      spec.check?.(snapshot, run);
    }
  } finally {
    actor.stop();
  }
}
