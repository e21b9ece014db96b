/** Model discovery for OpenAI-compatible gateways: where the list is, reading it, naming and merging models. */
export { modelsUrl, modelsUrlCandidates, referenceModelsUrl } from './modelsUrl.js';
export { parseModelList, modelEntries, type DiscoveredModel } from './modelList.js';
export {
  discoverModels,
  fetchModels,
  ModelDiscoveryError,
  type DiscoverModelsOptions,
  type FetchModelsOptions,
  type ModelDiscoveryErrorCode,
} from './fetchModels.js';
export { displayName } from './displayName.js';
export { diffModels, mergeModels, type MergeOptions, type MergeResult, type ModelEntry, type ModelsDiff } from './mergeModels.js';
