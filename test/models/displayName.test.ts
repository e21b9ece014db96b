import { describe, expect, it } from 'vitest';
import { displayName } from '../../src/adapters/models/index.js';

/** Real ids as public gateways list them (OpenAI, Anthropic, OpenRouter, Together, Groq, Ollama, vLLM, Bedrock, Fireworks, Cloudflare). */
const TABLE: [id: string, expected: string][] = [
  // From the brief and the reference's own tests.
  ['glm-5', 'GLM 5'],
  ['gpt-4o-mini', 'GPT 4o Mini'],
  ['qwen2-72b-instruct', 'Qwen2 72B Instruct'],
  ['DeepSeek-R1', 'DeepSeek R1'],
  ['claude-3-5-sonnet', 'Claude 3.5 Sonnet'],
  ['qwen2.5-coder-32b', 'Qwen2.5 Coder 32B'],
  ['mixtral-8x7b', 'Mixtral 8x7B'],
  ['meta-llama/Llama-3.1-8B-Instruct', 'Llama 3.1 8B Instruct'],
  ['openai/gpt-oss-120b', 'GPT OSS 120B'],
  ['llama3:70b', 'Llama3 70B'],
  ['text-embedding-3-small', 'Text Embedding 3 Small'],
  ['kimi-k2.6', 'Kimi K2.6'],
  ['tts-1-hd', 'TTS 1 HD'],
  // OpenAI
  ['gpt-4o-2024-08-06', 'GPT 4o 2024-08-06'],
  ['gpt-3.5-turbo-0125', 'GPT 3.5 Turbo 0125'],
  ['gpt-4.1-nano', 'GPT 4.1 Nano'],
  ['o3-mini', 'o3 Mini'],
  ['chatgpt-4o-latest', 'ChatGPT 4o Latest'],
  ['text-embedding-ada-002', 'Text Embedding Ada 002'],
  ['whisper-1', 'Whisper 1'],
  // Anthropic
  ['claude-3-5-sonnet-20241022', 'Claude 3.5 Sonnet 20241022'],
  ['claude-sonnet-4-5', 'Claude Sonnet 4.5'],
  ['claude-opus-4-1-20250805', 'Claude Opus 4.1 20250805'],
  // OpenRouter / Together / Hugging Face style org prefixes
  ['deepseek/deepseek-r1', 'DeepSeek R1'],
  ['deepseek-ai/DeepSeek-V3.1', 'DeepSeek V3.1'],
  ['mistralai/Mixtral-8x7B-Instruct-v0.1', 'Mixtral 8x7B Instruct V0.1'],
  ['Qwen/Qwen2.5-Coder-32B-Instruct', 'Qwen2.5 Coder 32B Instruct'],
  ['Qwen/Qwen3-30B-A3B', 'Qwen3 30B A3B'],
  ['Qwen/QwQ-32B', 'QwQ 32B'],
  ['qwen/qwq-32b', 'QwQ 32B'],
  ['zai-org/GLM-4.6', 'GLM 4.6'],
  ['z-ai/glm-4.5-air', 'GLM 4.5 Air'],
  ['moonshotai/Kimi-K2-Instruct', 'Kimi K2 Instruct'],
  ['microsoft/Phi-3-mini-4k-instruct', 'Phi 3 Mini 4K Instruct'],
  ['google/gemma-2-9b-it', 'Gemma 2 9B IT'],
  ['google/gemini-2.5-pro', 'Gemini 2.5 Pro'],
  ['ibm-granite/granite-3.3-8b-instruct', 'Granite 3.3 8B Instruct'],
  ['Qwen/Qwen2-VL-7B-Instruct', 'Qwen2 VL 7B Instruct'],
  ['minimax/minimax-m2', 'MiniMax M2'],
  ['deepseek-ai/deepseek-moe-16b-chat', 'DeepSeek MoE 16B Chat'],
  // Groq, Mistral, xAI, Cohere
  ['llama-3.3-70b-versatile', 'Llama 3.3 70B Versatile'],
  ['mistral-large-latest', 'Mistral Large Latest'],
  ['grok-4-fast-reasoning', 'Grok 4 Fast Reasoning'],
  ['command-r-plus', 'Command R Plus'],
  ['whisper-large-v3-turbo', 'Whisper Large V3 Turbo'],
  // Ollama tags
  ['llama3.2:3b', 'Llama3.2 3B'],
  ['qwen2.5:0.5b', 'Qwen2.5 0.5B'],
  ['nomic-embed-text:latest', 'Nomic Embed Text Latest'],
  ['bge-m3', 'BGE M3'],
  // Bedrock, Fireworks, Cloudflare
  ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'Claude 3.5 Sonnet 20240620 V1.0'],
  ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'Claude 3.7 Sonnet 20250219 V1.0'],
  ['accounts/fireworks/models/llama-v3p1-70b-instruct', 'Llama V3p1 70B Instruct'],
  ['@cf/meta/llama-3.1-8b-instruct', 'Llama 3.1 8B Instruct'],
  // Sizes
  ['gpt-4-32k', 'GPT 4 32K'],
  ['mistralai/Mixtral-8x22B-Instruct-v0.1', 'Mixtral 8x22B Instruct V0.1'],
  ['stable-diffusion-3-5-large', 'Stable Diffusion 3.5 Large'],
];

describe('displayName', () => {
  it.each(TABLE)('%s → %s', (id, expected) => {
    expect(displayName(id)).toBe(expected);
  });

  it('has a table of at least 30 real model ids', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(30);
  });

  it('lets an exact override win, trimmed, and ignores empty overrides', () => {
    expect(displayName('glm-5', { 'glm-5': '  Zhipu GLM-5  ' })).toBe('Zhipu GLM-5');
    expect(displayName('glm-5', { 'glm-5': '   ' })).toBe('GLM 5');
    expect(displayName('glm-5', { 'GLM-5': 'other' })).toBe('GLM 5');
  });

  it('falls back to the raw id when nothing is left to name', () => {
    expect(displayName('---')).toBe('---');
    expect(displayName('/')).toBe('/');
  });
});
