import { describe, expect, it } from 'vitest';
import { parseModelList } from '../../src/adapters/models/index.js';

describe('parseModelList', () => {
  it('reads {data: [...]} and a top-level array alike', () => {
    const data = [{ id: 'a', object: 'model', owned_by: 'org' }, { id: 'b' }];
    expect(parseModelList({ object: 'list', data })).toEqual([{ id: 'a', ownedBy: 'org' }, { id: 'b' }]);
    expect(parseModelList(data)).toEqual([{ id: 'a', ownedBy: 'org' }, { id: 'b' }]);
  });

  it('returns undefined for bodies that are not a model list', () => {
    for (const body of [null, 'text', 42, {}, { data: {} }, { models: [] }]) expect(parseModelList(body)).toBeUndefined();
  });

  it('skips entries without a non-empty string id, trims ids and drops duplicates (first wins)', () => {
    const body = { data: [null, 'str', { id: 7 }, { id: '' }, { id: '  ' }, { name: 'x' }, { id: ' m ', owned_by: 'first' }, { id: 'm', owned_by: 'second' }] };
    expect(parseModelList(body)).toEqual([{ id: 'm', ownedBy: 'first' }]);
  });

  it('keeps upstream names unless they repeat the id', () => {
    expect(parseModelList([{ id: 'a', name: 'Model A' }, { id: 'b', display_name: 'Model B', name: 'ignored' }, { id: 'c', name: 'c' }])).toEqual([
      { id: 'a', upstreamName: 'Model A' },
      { id: 'b', upstreamName: 'Model B' },
      { id: 'c' },
    ]);
  });

  it('picks context and output limits from the field names gateways use', () => {
    const models = parseModelList([
      { id: 'openrouter', context_length: 128000, top_provider: { max_completion_tokens: 16384 } },
      { id: 'vllm', max_model_len: 32768 },
      { id: 'litellm', max_input_tokens: '200000', max_output_tokens: 8192 },
      { id: 'together', context_window: 8192 },
      { id: 'models-dev', limit: { context: 65536, output: 4096 } },
      { id: 'junk', context_length: -1, max_output_tokens: 'lots', created: 1.5 },
      { id: 'dated', created: 1715367049 },
    ]);
    expect(models).toEqual([
      { id: 'openrouter', contextLength: 128000, maxOutputTokens: 16384 },
      { id: 'vllm', contextLength: 32768 },
      { id: 'litellm', contextLength: 200000, maxOutputTokens: 8192 },
      { id: 'together', contextLength: 8192 },
      { id: 'models-dev', contextLength: 65536, maxOutputTokens: 4096 },
      { id: 'junk' },
      { id: 'dated', created: 1715367049 },
    ]);
  });
});
