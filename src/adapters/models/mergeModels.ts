import { displayName } from './displayName.js';
import type { DiscoveredModel } from './modelList.js';

/**
 * Discovered models merged into a provider's `models` map of OpenCode's config.
 *
 * Who wins, per field: `nameOverrides` over everything for `name`; then what the user wrote in
 * `provider.<id>.models.<model>`; then what the gateway said (its own name, its limits); then our
 * display name. The reference overwrote user names on every run; here a user's entry is never clobbered.
 *
 * A merge can be re-run on its own output (a later sync pushing into the running config): pass the
 * previous result as `previous`; fields still equal to what it stamped are ours to update, anything else
 * was set by the user and stays.
 */

/** The part of OpenCode's model entry we write; everything else in a user entry is carried over as is. */
export interface ModelEntry {
  name?: string;
  limit?: { context: number; output: number };
  [field: string]: unknown;
}

export interface ModelsDiff {
  added: string[];
  removed: string[];
  renamed: { id: string; before: string; after: string }[];
}

export interface MergeResult {
  models: Record<string, ModelEntry>;
  diff: ModelsDiff;
  /** Only the fields this merge wrote (names, limits), per model: what a later merge may replace. */
  stamped: Record<string, ModelEntry>;
}

export interface MergeOptions {
  /** The result of the previous merge, when `existing` is that merge's output (or grew from it). */
  previous?: Pick<MergeResult, 'models' | 'stamped'>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * OpenCode needs both numbers once `limit` is set; `0` is its "unknown" (the output cap then falls
 * back to OpenCode's own maximum), so a gateway that gives only one of them still helps.
 */
function limitOf(model: DiscoveredModel): ModelEntry['limit'] | undefined {
  if (model.contextLength === undefined && model.maxOutputTokens === undefined) return undefined;
  return { context: model.contextLength ?? 0, output: model.maxOutputTokens ?? 0 };
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The user's own fields of an existing entry: those not equal to what we stamped last time. */
function userFields(existing: unknown, stamped: ModelEntry | undefined): Record<string, unknown> {
  if (!isRecord(existing)) return {};
  if (!stamped) return { ...existing };
  return Object.fromEntries(Object.entries(existing).filter(([field, value]) => !sameValue(value, stamped[field])));
}

export function mergeModels(
  existing: Readonly<Record<string, unknown>> | undefined,
  discovered: readonly DiscoveredModel[],
  overrides: Readonly<Record<string, string>> = {},
  options: MergeOptions = {},
): MergeResult {
  const current = existing ?? {};
  const previousStamps = options.previous?.stamped ?? {};
  const models: Record<string, ModelEntry> = {};
  const stamped: Record<string, ModelEntry> = {};

  for (const model of discovered) {
    const own = userFields(current[model.id], previousStamps[model.id]);
    const ours: ModelEntry = {};
    const limit = limitOf(model);
    if (limit && own.limit === undefined) ours.limit = limit;
    if (typeof own.name !== 'string' || own.name.trim() === '') ours.name = model.upstreamName ?? displayName(model.id);
    models[model.id] = { ...own, ...ours };
    stamped[model.id] = ours;
  }

  // Entries not (or no longer) discovered stay when they are the user's.
  const discoveredIds = new Set(discovered.map((model) => model.id));
  for (const [id, entry] of Object.entries(current)) {
    if (discoveredIds.has(id)) continue;
    const stamp = previousStamps[id];
    const own = userFields(entry, stamp);
    // Not stamped by us means the user listed it (even as `{}`: "this model, with defaults").
    if (!stamp || Object.keys(own).length > 0) models[id] = own as ModelEntry;
  }

  for (const [id, name] of Object.entries(overrides)) {
    const entry = models[id];
    if (entry && typeof name === 'string' && name.trim() !== '') {
      entry.name = name.trim();
      (stamped[id] ??= {}).name = entry.name;
    }
  }

  return { models, diff: diffModels(options.previous?.models ?? current, models), stamped };
}

/** What changed between two model maps, by id; a rename is a change of `name`. */
export function diffModels(before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, ModelEntry>>): ModelsDiff {
  const nameOf = (entry: unknown) => (isRecord(entry) && typeof entry.name === 'string' ? entry.name : undefined);
  const added = Object.keys(after).filter((id) => !(id in before));
  const removed = Object.keys(before).filter((id) => !(id in after));
  const renamed = Object.keys(after).flatMap((id) => {
    if (!(id in before)) return [];
    const was = nameOf(before[id]);
    const now = nameOf(after[id]);
    return was !== undefined && now !== undefined && was !== now ? [{ id, before: was, after: now }] : [];
  });
  return { added, removed, renamed };
}
