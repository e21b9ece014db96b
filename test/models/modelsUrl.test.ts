import { describe, expect, it } from 'vitest';
import { modelsUrl, modelsUrlCandidates, referenceModelsUrl } from '../../src/adapters/models/index.js';

describe('modelsUrl', () => {
  it.each([
    ['https://h/v1', 'https://h/v1/models'],
    ['https://h/v1/', 'https://h/v1/models'],
    ['https://h/openai', 'https://h/openai/models'],
    ['https://h', 'https://h/models'],
    ['https://h/v1?api-version=2024-10-21', 'https://h/v1/models?api-version=2024-10-21'],
    ['http://127.0.0.1:8080/api/v1//', 'http://127.0.0.1:8080/api/v1/models'],
  ])('%s → %s (same root as <baseURL>/chat/completions)', (base, expected) => {
    expect(modelsUrl(base)).toBe(expected);
  });

  it('honours modelsPath: absolute URL, host-root path, relative path, own query', () => {
    expect(modelsUrl('https://h/openai', 'https://other/list')).toBe('https://other/list');
    expect(modelsUrl('https://h/openai?x=1', '/v1/models')).toBe('https://h/v1/models?x=1');
    expect(modelsUrl('https://h/openai', 'v1/models')).toBe('https://h/openai/v1/models');
    expect(modelsUrl('https://h/openai?x=1', 'models?all=true')).toBe('https://h/openai/models?all=true');
  });

  it("keeps the reference's rule as a second candidate only where it differs", () => {
    expect(referenceModelsUrl('https://h/openai')).toBe('https://h/openai/v1/models');
    expect(referenceModelsUrl('https://h/v1/')).toBe('https://h/v1/models');
    expect(modelsUrlCandidates('https://h/v1')).toEqual(['https://h/v1/models']);
    expect(modelsUrlCandidates('https://h/openai')).toEqual(['https://h/openai/models', 'https://h/openai/v1/models']);
    expect(modelsUrlCandidates('https://h/openai', '/models')).toEqual(['https://h/models']);
  });
});
