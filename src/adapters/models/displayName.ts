/**
 * Display names for model ids, for OpenCode's model picker: `glm-5` → `GLM 5`, `claude-3-5-sonnet` →
 * `Claude 3.5 Sonnet`, `meta-llama/Llama-3.1-8B-Instruct` → `Llama 3.1 8B Instruct`.
 *
 * Better than the reference's `normalizeModelId` on two counts: case the gateway chose is kept
 * (`DeepSeek-R1` stays `DeepSeek R1`, not `Deepseek R1`), and versions survive (`3-5` → `3.5`, dates stay dates).
 * Rules, in order:
 * 1. an exact `overrides[id]` wins;
 * 2. the organisation prefix goes (`org/…`, Bedrock's `anthropic.`/`us.anthropic.`);
 * 3. split on `-`, `_`, `:`, `@`, spaces (dots stay: they are versions);
 * 4. a `YYYY-MM-DD` date is one token; a run of short numbers after a version head joins with dots
 *    (`3 5` → `3.5`, `v0 2` → `v0.2`), never numbers with a leading zero (`0613`) or long ones (`20241022`);
 * 5. each token: known acronyms and brands in their spelling (GPT, GLM, OSS, MoE, DeepSeek, …); sizes
 *    upper-cased (`72b` → `72B`, `8x7b` → `8x7B`, `128k` → `128K`, `a3b` → `A3B`); o-series stays lower
 *    (`o3`); a token with any upper-case letter is kept as written; other words get a capital first letter.
 */

const ACRONYMS = [
  'AI', 'API', 'AWQ', 'BF16', 'BGE', 'CPU', 'FP8', 'FP16', 'GGUF', 'GLM', 'GPT', 'GPTQ', 'GPU', 'HD', 'INT4', 'INT8',
  'IT', 'LLM', 'MLX', 'MoE', 'NLP', 'OCR', 'OSS', 'STT', 'TTS', 'VL',
];
const BRANDS = ['ChatGPT', 'CodeGemma', 'CodeLlama', 'DeepSeek', 'InternLM', 'MiniMax', 'OpenChat', 'QwQ', 'SmolLM', 'StarCoder', 'WizardLM'];
const SPELLING = new Map([...ACRONYMS, ...BRANDS].map((word) => [word.toLowerCase(), word]));

/** Bedrock-style provider prefixes: `anthropic.claude-…`, `us.anthropic.claude-…`, `meta.llama3-…`. */
const DOTTED_PREFIX = /^(?:[a-z]+\.)+(?=[a-z])/i;

const isDateAt = (tokens: string[], index: number) =>
  /^(?:19|20)\d\d$/.test(tokens[index] ?? '') &&
  /^(?:0[1-9]|1[0-2])$/.test(tokens[index + 1] ?? '') &&
  /^(?:0[1-9]|[12]\d|3[01])$/.test(tokens[index + 2] ?? '');

/** A token that can start a dotted version: a short number, or `v`/`V` and a short number. */
const VERSION_HEAD = /^v?\d{1,2}$/i;
/** A token that can continue one: 0, or 1–2 digits without a leading zero. */
const VERSION_PART = /^(?:0|[1-9]\d?)$/;

function mergeTokens(tokens: string[]): string[] {
  const merged: string[] = [];
  for (let index = 0; index < tokens.length; index += 1) {
    if (isDateAt(tokens, index)) {
      merged.push(tokens.slice(index, index + 3).join('-'));
      index += 2;
      continue;
    }
    let token = tokens[index]!;
    if (VERSION_HEAD.test(token)) {
      while (VERSION_PART.test(tokens[index + 1] ?? '') && !isDateAt(tokens, index + 1)) {
        token = `${token}.${tokens[index + 1]}`;
        index += 1;
      }
    }
    merged.push(token);
  }
  return merged;
}

function spell(token: string): string {
  const known = SPELLING.get(token.toLowerCase());
  if (known) return known;
  // Sizes: 72b, 1.5b, 128k, 8x7b, 8x22b, and active-parameter tags a3b / e4b.
  if (/^\d+(?:\.\d+)?[bkmt]$/i.test(token)) return token.toUpperCase();
  if (/^\d+x\d+(?:\.\d+)?[bkmt]$/i.test(token)) return token.replace(/[bkmt]$/i, (unit) => unit.toUpperCase());
  if (/^[ae]\d+(?:\.\d+)?b$/i.test(token)) return token.toUpperCase();
  if (/^o\d+$/i.test(token)) return token.toLowerCase();
  if (/[A-Z]/.test(token)) return token;
  if (!/^[a-z]/.test(token)) return token;
  return token[0]!.toUpperCase() + token.slice(1);
}

export function displayName(id: string, overrides?: Readonly<Record<string, string>>): string {
  const override = overrides?.[id];
  if (typeof override === 'string' && override.trim() !== '') return override.trim();
  const lastSegment = id.split('/').filter((part) => part.trim() !== '').at(-1) ?? '';
  const local = lastSegment.replace(DOTTED_PREFIX, '');
  const tokens = local.split(/[-_:@\s]+/).filter(Boolean);
  if (tokens.length === 0) return id;
  return mergeTokens(tokens).map(spell).join(' ');
}
