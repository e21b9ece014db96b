import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { machinesToDraw, mermaidFor } from '../../scripts/diagrams.mjs';

// The diagrams in docs/ are generated from the machines; this fails when code and docs part ways.
describe('docs/machines diagrams', async () => {
  const machines = (await machinesToDraw()) as { id: string }[];
  it('draws every machine the package exports', () => {
    expect(machines.map((m) => m.id)).toContain('tokenLifecycle');
  });
  it.each(machines.map((m) => [m.id, m]))('%s.mmd is up to date (run `node scripts/diagrams.mjs`)', async (id, machine) => {
    const committed = await readFile(new URL(`../../docs/machines/${id}.mmd`, import.meta.url), 'utf8');
    expect(committed).toBe(mermaidFor(machine));
  });
});
