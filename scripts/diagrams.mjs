// Mermaid state diagrams generated from the machines themselves (never drawn by hand), for docs/machines/.
// `node scripts/diagrams.mjs` rewrites them; test/docs/diagrams.test.ts fails when they drift from the code.
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getStateNodes } from 'xstate/graph';

const name = (node) => node.path.join('_') || 'root';
const label = (node) => node.key;

/** Transition labels name the event and the guard: the guard is the policy, so the diagram shows it. */
function edgeLabel(eventType, transition) {
  const event = eventType
    .replace(/^xstate\.after\.([^.]+)\..*$/, 'after $1')
    .replace(/^xstate\.done\.actor\.(.*)$/, 'done($1)')
    .replace(/^xstate\.error\.actor\.(.*)$/, 'error($1)');
  const guard = transition.guard ? ` [${typeof transition.guard === 'string' ? transition.guard : (transition.guard.type ?? 'guard')}]` : '';
  // Mermaid ends a label at ':' and '"', so neither may appear inside one.
  return `${event}${guard}`.replace(/[:"]/g, ' ');
}

export function mermaidFor(machine) {
  const lines = ['stateDiagram-v2'];
  const emit = (node, indent) => {
    const pad = ' '.repeat(indent);
    const children = Object.values(node.states ?? {});
    if (node.always?.length && !children.length) lines.push(`${pad}state ${name(node)} <<choice>>`);
    else if (children.length) {
      lines.push(`${pad}state "${label(node)}" as ${name(node)} {`);
      if (node.type === 'parallel') {
        // Regions run side by side: Mermaid separates concurrent regions with `--`.
        children.forEach((child, i) => {
          if (i > 0) lines.push(`${pad}  --`);
          emit(child, indent + 2);
        });
        lines.push(`${pad}}`);
        return;
      }
      lines.push(`${pad}  [*] --> ${name(node.states[node.initial.target[0].key])}`);
      children.forEach((child) => emit(child, indent + 2));
      lines.push(`${pad}}`);
    } else lines.push(`${pad}state "${label(node)}" as ${name(node)}`);
  };
  const root = machine.root;
  lines.push(`  [*] --> ${name(root.states[root.initial.target[0].key])}`);
  Object.values(root.states).forEach((child) => emit(child, 2));
  for (const node of [root, ...getStateNodes(root)]) {
    const source = node === root ? '*' : name(node);
    for (const [eventType, transitions] of node.transitions) {
      for (const t of transitions) {
        for (const target of t.target ?? [node]) {
          if (source === '*') continue; // root-level events (LOGOUT) are listed below, not drawn from every state
          lines.push(`  ${source} --> ${name(target)} : ${edgeLabel(eventType, t)}`);
        }
      }
    }
    for (const t of node.always ?? []) {
      for (const target of t.target ?? []) lines.push(`  ${name(node)} --> ${name(target)} : ${edgeLabel('always', t)}`);
    }
    if (node.type === 'final') lines.push(`  ${name(node)} --> [*]`);
  }
  const rootEvents = [...root.transitions.keys()];
  if (rootEvents.length) lines.push(`  note right of ${name(root.states[root.initial.target[0].key])} : from any state, ${rootEvents.join(', ')}`);
  return lines.join('\n') + '\n';
}

export async function machinesToDraw() {
  const machines = await import('../dist/machines.mjs');
  return Object.entries(machines)
    .filter(([, value]) => value && typeof value === 'object' && value.root && typeof value.provide === 'function')
    .map(([, machine]) => machine);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = new URL('../docs/machines/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const machine of await machinesToDraw()) {
    writeFileSync(new URL(`${machine.id}.mmd`, dir), mermaidFor(machine));
    console.log(`docs/machines/${machine.id}.mmd`);
  }
}
