/**
 * Where the model list of an OpenAI-compatible gateway lives.
 *
 * Decision: `${baseURL}/models`, the same base `@ai-sdk/openai-compatible` uses for
 * `${baseURL}/chat/completions`, so discovery and inference always talk to the same API root
 * (`https://h/v1` → `https://h/v1/models`, `https://h/openai` → `https://h/openai/models`).
 *
 * Compatibility: `@vymalo/opencode-oauth2` appended `/v1` when the base path did not end in it
 * (`https://h/openai` → `https://h/openai/v1/models`) while inference went to `https://h/openai/chat/completions`.
 * For bases ending in `/v1` (the documented setup) both rules agree. For the others, {@link modelsUrlCandidates}
 * lists the reference's URL second, and discovery tries it when the first answers 404, so a gateway that only
 * served the old URL keeps working after the switch. An explicit `modelsPath` turns both rules off.
 */

/** The base URL without fragment, and its path without trailing slashes (`''` for the host root). */
function splitBase(baseURL: string): { url: URL; path: string } {
  const url = new URL(baseURL);
  url.hash = '';
  return { url, path: url.pathname.replace(/\/+$/, '') };
}

/**
 * The model-list URL for a base URL. The base's query string is kept (some gateways need `api-version`).
 * `modelsPath`: an absolute http(s) URL is used as is; a path starting with `/` replaces the base's path;
 * any other path is appended to the base path.
 */
export function modelsUrl(baseURL: string, modelsPath?: string): string {
  if (modelsPath !== undefined && /^https?:\/\//i.test(modelsPath)) return new URL(modelsPath).toString();
  const { url, path: basePath } = splitBase(baseURL);
  if (modelsPath === undefined) {
    url.pathname = `${basePath}/models`;
    return url.toString();
  }
  const [path = '', query] = modelsPath.split('?', 2) as [string, string | undefined];
  url.pathname = path.startsWith('/') ? path : `${basePath}/${path.replace(/^\.\//, '')}`;
  if (query !== undefined) url.search = query;
  return url.toString();
}

/** The reference plugin's rule: `<base>/models` when the base ends in `/v1`, else `<base>/v1/models`. */
export function referenceModelsUrl(baseURL: string): string {
  const { url, path } = splitBase(baseURL);
  url.pathname = path.endsWith('/v1') ? `${path}/models` : `${path}/v1/models`;
  return url.toString();
}

/** URLs to try in order: ours, then the reference's when it differs (only without `modelsPath`). */
export function modelsUrlCandidates(baseURL: string, modelsPath?: string): string[] {
  const primary = modelsUrl(baseURL, modelsPath);
  if (modelsPath !== undefined) return [primary];
  const legacy = referenceModelsUrl(baseURL);
  return legacy === primary ? [primary] : [primary, legacy];
}
