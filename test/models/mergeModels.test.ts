import { describe, expect, it } from 'vitest';
import { mergeModels, type DiscoveredModel } from '../../src/adapters/models/index.js';

const discovered: DiscoveredModel[] = [
  { id: 'glm-5', contextLength: 128000, maxOutputTokens: 16384 },
  { id: 'kimi-k2.6', upstreamName: 'Kimi K2.6 (Moonshot)' },
  { id: 'qwen2.5-coder-32b', contextLength: 32768 },
];

describe('mergeModels', () => {
  it('names discovered models (upstream name, else display name) and sets limits the gateway gave', () => {
    const { models, diff } = mergeModels(undefined, discovered, {});
    expect(models).toEqual({
      'glm-5': { name: 'GLM 5', limit: { context: 128000, output: 16384 } },
      'kimi-k2.6': { name: 'Kimi K2.6 (Moonshot)' },
      'qwen2.5-coder-32b': { name: 'Qwen2.5 Coder 32B', limit: { context: 32768, output: 0 } },
    });
    expect(diff).toEqual({ added: ['glm-5', 'kimi-k2.6', 'qwen2.5-coder-32b'], removed: [], renamed: [] });
  });

  it('never clobbers what the user wrote; keeps user-only models, even empty ones', () => {
    const existing = {
      'glm-5': { name: 'My GLM', temperature: true, limit: { context: 1000, output: 100 } },
      'private-model': { name: 'Private' },
      'bare-model': {},
    };
    const { models, diff } = mergeModels(existing, discovered, {});
    expect(models['glm-5']).toEqual({ name: 'My GLM', temperature: true, limit: { context: 1000, output: 100 } });
    expect(models['private-model']).toEqual({ name: 'Private' });
    expect(models['bare-model']).toEqual({});
    expect(diff.added).toEqual(['kimi-k2.6', 'qwen2.5-coder-32b']);
    expect(diff.removed).toEqual([]);
    expect(existing['glm-5'].name).toBe('My GLM');
  });

  it('lets nameOverrides win over the user name, the upstream name and user-only entries', () => {
    const { models, diff } = mergeModels(
      { 'glm-5': { name: 'My GLM' }, 'private-model': { name: 'Private' } },
      discovered,
      { 'glm-5': 'GLM-5 (corp)', 'kimi-k2.6': 'Kimi', 'private-model': 'Secret Sauce', 'absent-model': 'Nope' },
    );
    expect(models['glm-5']!.name).toBe('GLM-5 (corp)');
    expect(models['kimi-k2.6']!.name).toBe('Kimi');
    expect(models['private-model']!.name).toBe('Secret Sauce');
    expect(models['absent-model']).toBeUndefined();
    expect(diff.renamed).toEqual([
      { id: 'glm-5', before: 'My GLM', after: 'GLM-5 (corp)' },
      { id: 'private-model', before: 'Private', after: 'Secret Sauce' },
    ]);
  });

  it('re-merging its own output updates what it stamped, drops what vanished, keeps user edits', () => {
    const first = mergeModels({ 'qwen2.5-coder-32b': { temperature: true } }, discovered, {});
    // The running config now holds the first result; the user then renames kimi by hand.
    const running = structuredClone(first.models);
    running['kimi-k2.6']!.name = 'Kimi (mine)';
    const next: DiscoveredModel[] = [
      { id: 'glm-5', upstreamName: 'GLM-5 Turbo', contextLength: 200000, maxOutputTokens: 16384 },
      { id: 'kimi-k2.6' },
      { id: 'qwen2.5-coder-32b', contextLength: 32768 },
      { id: 'new-model' },
    ];
    const second = mergeModels(running, next, {}, { previous: first });
    expect(second.models['glm-5']).toEqual({ name: 'GLM-5 Turbo', limit: { context: 200000, output: 16384 } });
    expect(second.models['kimi-k2.6']).toEqual({ name: 'Kimi (mine)' });
    expect(second.models['qwen2.5-coder-32b']).toEqual({ temperature: true, name: 'Qwen2.5 Coder 32B', limit: { context: 32768, output: 0 } });
    expect(second.diff).toEqual({
      added: ['new-model'],
      removed: [],
      renamed: [
        { id: 'glm-5', before: 'GLM 5', after: 'GLM-5 Turbo' },
        { id: 'kimi-k2.6', before: 'Kimi K2.6 (Moonshot)', after: 'Kimi (mine)' },
      ],
    });

    const third = mergeModels(second.models, [{ id: 'glm-5' }], {}, { previous: second });
    expect(Object.keys(third.models).sort()).toEqual(['glm-5', 'kimi-k2.6', 'qwen2.5-coder-32b']);
    expect(third.models['glm-5']).toEqual({ name: 'GLM 5' });
    expect(third.models['qwen2.5-coder-32b']).toEqual({ temperature: true });
    expect(third.diff.removed).toEqual(['new-model']);
  });
});
