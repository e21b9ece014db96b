/**
 * The model list of an OpenAI-compatible gateway (`GET /models`), read leniently: a top-level array or
 * `{"data": [...]}`, entries without a usable `id` skipped, duplicates dropped (first wins), and the few
 * metadata fields worth keeping picked from the names gateways actually use.
 */

export interface DiscoveredModel {
  id: string;
  ownedBy?: string;
  /** A human name the gateway sent (`name` or `display_name`), when it is not just the id again. */
  upstreamName?: string;
  /** Context window in tokens. */
  contextLength?: number;
  /** Most output tokens per response. */
  maxOutputTokens?: number;
  /** Unix seconds, as OpenAI's `created`. */
  created?: number;
}

type Entry = Record<string, unknown>;
const isRecord = (value: unknown): value is Entry => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Context-window fields seen in the wild: OpenRouter, vLLM, LiteLLM, Together, Groq, models.dev-style `limit`. */
const CONTEXT_FIELDS = ['context_length', 'context_window', 'max_context_length', 'max_model_len', 'max_input_tokens'];
const OUTPUT_FIELDS = ['max_output_tokens', 'max_completion_tokens', 'output_token_limit'];

function positiveInteger(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number > 0 ? number : undefined;
}

function firstNumber(entry: Entry, fields: readonly string[]): number | undefined {
  for (const field of fields) {
    const found = positiveInteger(entry[field]);
    if (found !== undefined) return found;
  }
  return undefined;
}

function nonEmptyText(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function toModel(entry: Entry, id: string): DiscoveredModel {
  const topProvider = isRecord(entry.top_provider) ? entry.top_provider : {};
  const limit = isRecord(entry.limit) ? entry.limit : {};
  const name = nonEmptyText(entry.display_name) ?? nonEmptyText(entry.name);
  const contextLength =
    firstNumber(entry, CONTEXT_FIELDS) ?? positiveInteger(topProvider.context_length) ?? positiveInteger(limit.context);
  const maxOutputTokens =
    firstNumber(entry, OUTPUT_FIELDS) ?? positiveInteger(topProvider.max_completion_tokens) ?? positiveInteger(limit.output);
  const ownedBy = nonEmptyText(entry.owned_by);
  const created = positiveInteger(entry.created);
  return {
    id,
    ...(ownedBy ? { ownedBy } : {}),
    ...(name && name !== id ? { upstreamName: name } : {}),
    ...(contextLength ? { contextLength } : {}),
    ...(maxOutputTokens ? { maxOutputTokens } : {}),
    ...(created ? { created } : {}),
  };
}

/** The entries of a model-list body, or undefined when the body is not a model list at all. */
export function modelEntries(body: unknown): unknown[] | undefined {
  if (Array.isArray(body)) return body;
  if (isRecord(body) && Array.isArray(body.data)) return body.data;
  return undefined;
}

/** Parse a model-list body. Returns undefined when it is not a list (the caller turns that into an error). */
export function parseModelList(body: unknown): DiscoveredModel[] | undefined {
  const entries = modelEntries(body);
  if (!entries) return undefined;
  const seen = new Set<string>();
  const models: DiscoveredModel[] = [];
  for (const entry of entries) {
    if (!isRecord(entry) || typeof entry.id !== 'string') continue;
    const id = entry.id.trim();
    if (!id || seen.has(id)) continue;
    seen.add(id);
    models.push(toModel(entry, id));
  }
  return models;
}
