/**
 * Model-based testing for the project's machines: paths are generated from the real machine with
 * xstate/graph, replayed on a real actor whose effects are controllable fakes, and every state node and
 * every transition definition the replays take is counted against the machine's own definition.
 */
import { setImmediate as realSetImmediate } from 'node:timers';
import { vi } from 'vitest';
import {
  __unsafe_getAllOwnEventDescriptors,
  createActor,
  fromPromise,
  initialTransition,
  transition,
  type AnyActorLogic,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  type InspectionEvent,
} from 'xstate';
import { getAdjacencyMap, getShortestPaths, getStateNodes, type StatePath } from 'xstate/graph';

export type Path = StatePath<AnyMachineSnapshot, EventObject>;
type AnyStateNode = ReturnType<typeof getStateNodes>[number];
type TransitionDef = { source: AnyStateNode; eventType: string };

/** Events to explore in a state: the ones it handles, each with every payload variant the test supplies. */
export function eventsWith(payloads: Record<string, object[]>) {
  return (snapshot: AnyMachineSnapshot): EventObject[] =>
    snapshot.status !== 'active'
      ? [] // a done snapshot still "transitions" in pure traversal; a real actor ignores it
      : __unsafe_getAllOwnEventDescriptors(snapshot).flatMap((type) =>
          (payloads[type] ?? [{}]).map((payload) => ({ type, ...payload })),
        );
}

/**
 * One path per edge of the adjacency graph: the shortest path to the edge's source, then the edge.
 * Covers every reachable transition with far fewer paths than simple paths; strict prefixes are dropped.
 */
export function edgeCoveragePaths(
  machine: AnyStateMachine,
  options: {
    input: unknown;
    events: (s: AnyMachineSnapshot) => EventObject[];
    serializeState: (s: AnyMachineSnapshot) => string;
    /**
     * Edges with the same key are one test: by default the source and target state values plus the event.
     * Context differences the guards do not read would otherwise multiply the paths without new coverage;
     * the coverage check after the replays proves nothing was lost.
     */
    edgeKey?: (source: AnyMachineSnapshot, event: EventObject, target: AnyMachineSnapshot) => string;
  },
): Path[] {
  // A transition taken without changing the state value (targetless, with actions) still counts as its own
  // edge; one whose guard failed leaves the snapshot as it was.
  const changed = (source: AnyMachineSnapshot, target: AnyMachineSnapshot) =>
    JSON.stringify(source.value) !== JSON.stringify(target.value) || JSON.stringify(source.context) !== JSON.stringify(target.context);
  const edgeKey =
    options.edgeKey ?? ((source, event, target) => JSON.stringify([source.value, event, target.value, changed(source, target)]));
  const traversal = {
    input: options.input,
    events: options.events,
    serializeState: (s: AnyMachineSnapshot) => options.serializeState(s),
  } as never;
  const adjacency = getAdjacencyMap(machine, traversal);
  const shortest = new Map<string, Path>();
  for (const path of getShortestPaths(machine, traversal) as Path[]) shortest.set(options.serializeState(path.state), path);
  const candidates: Path[] = [];
  for (const [vertex, { transitions }] of Object.entries(adjacency)) {
    const head = shortest.get(vertex);
    if (!head) continue;
    for (const { event } of Object.values(transitions) as { event: EventObject }[]) {
      // Vertices merge snapshots whose contexts differ, so the expected snapshots are recomputed by running
      // the path's own events through the pure transition function.
      const steps = recompute(machine, options.input, [...head.steps.map((s) => s.event), event]);
      candidates.push({ state: steps.at(-1)!.state, steps, weight: steps.length, source: steps.at(-2)!.state } as Path);
    }
  }
  candidates.sort((a, b) => a.weight - b.weight);
  const taken = new Set<string>();
  const paths = candidates.filter((p) => {
    const key = edgeKey((p as Path & { source: AnyMachineSnapshot }).source, p.steps.at(-1)!.event, p.state);
    if (taken.has(key)) return false;
    taken.add(key);
    return true;
  });
  const key = (p: Path) => p.steps.map((s) => JSON.stringify(s.event)).join('\n');
  const keys = paths.map(key);
  return paths.filter((_, i) => !keys.some((other, j) => j !== i && other.length > keys[i]!.length && other.startsWith(keys[i]! + '\n')));
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

/** Human-readable name of a path for the test list: the event types, in order. */
export function describePath(path: Path): string {
  return path.steps
    .slice(1)
    .map((s) => s.event.type.replace(/^xstate\./, '').replace(/\.[^.]*tokenLifecycle.*$|\.#.*$/, ''))
    .join(' → ');
}

const transitionKey = (t: TransitionDef, index: number) => `${t.source.id}|${t.eventType || 'always'}|${index}`;

/** Every state node (minus the root and transient decision nodes) and every transition definition. */
export function machineInventory(machine: AnyStateMachine) {
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
        states,
        totalStates: inventory.states.size,
        transitions,
        totalTransitions: inventory.transitions.size,
        missedStates: [...inventory.states].filter((s) => !seenStates.has(s)),
        missedTransitions: [...inventory.transitions].filter((t) => !seenTransitions.has(t)),
        line: `model coverage ${name}: states ${states}/${inventory.states.size}, transitions ${transitions}/${inventory.transitions.size}`,
      };
    },
  };
}

/**
 * Promise actors that wait for the test to settle them, keyed by invoke id (`self.id`), so one actor
 * source invoked from several states (e.g. readStore) is settled per invocation.
 */
export function createControlledPromises() {
  const pending = new Map<string, { resolve(value: unknown): void; reject(error: unknown): void; input: unknown }>();
  const calls: { id: string; input: unknown }[] = [];
  return {
    calls,
    logic<TOutput, TInput>(): AnyActorLogic {
      return fromPromise<TOutput, TInput>(
        ({ input, self }) =>
          new Promise<TOutput>((resolve, reject) => {
            pending.set(self.id, { resolve: resolve as (v: unknown) => void, reject, input });
            calls.push({ id: self.id, input });
          }),
      );
    },
    async settle(id: string, outcome: 'done' | 'error', value: unknown) {
      const entry = pending.get(id);
      if (!entry) throw new Error(`no pending actor "${id}" to settle`);
      pending.delete(id);
      if (outcome === 'done') entry.resolve(value);
      else entry.reject(value);
      await flush();
    },
  };
}

/** Lets promise callbacks run; setImmediate stays real under the fake timers used here. */
export const flush = () => new Promise<void>((resolve) => realSetImmediate(resolve));

export const fakeTimers = (now: number) =>
  vi.useFakeTimers({ now, toFake: ['setTimeout', 'clearTimeout', 'Date'] });

/**
 * Replays one path on a started actor: delays fire by advancing fake time, invoked actors are settled by
 * the test's controlled promises, other events are sent. `check` runs after every step.
 */
export async function replay(
  path: Path,
  options: {
    send(event: EventObject): void;
    settle(id: string, outcome: 'done' | 'error', value: unknown): Promise<void>;
    check(expected: AnyMachineSnapshot, step: number): void;
  },
) {
  for (const [index, { event, state }] of path.steps.entries()) {
    const settled = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event.type);
    if (event.type === 'xstate.init') {
      // the actor is already started
    } else if (event.type.startsWith('xstate.after.')) {
      await vi.advanceTimersToNextTimerAsync();
    } else if (settled) {
      const e = event as EventObject & { output?: unknown; error?: unknown };
      await options.settle(settled[2]!, settled[1] as 'done' | 'error', settled[1] === 'done' ? e.output : e.error);
    } else {
      options.send(event);
      await flush();
    }
    options.check(state, index);
  }
}

export { createActor };
