import { realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProviderConfig } from '../config/index.js';

/**
 * Keeps the agent's own tools (read, write, edit, bash, grep, glob, list, patch, webfetch, …) away from the
 * token store and from the secret files the config names (private keys, subject-token files). The model is
 * not trusted with credentials: a prompt injection could otherwise ask it to `cat` a refresh token.
 */

export interface ProtectedPath {
  path: string;
  /** Why it is protected, for the refusal message (never its content). */
  what: string;
  /** A directory protects everything under it. */
  directory: boolean;
}

/** Tools that walk a tree: asking for a parent of a protected path reaches it too. */
const RECURSIVE_TOOLS = new Set(['grep', 'glob', 'list', 'ls']);

export function protectedPaths(options: { storeDir?: string; providers: readonly ProviderConfig[] }): ProtectedPath[] {
  const found: ProtectedPath[] = [];
  if (options.storeDir) found.push({ path: options.storeDir, what: 'the OAuth token store', directory: true });
  for (const provider of options.providers) {
    if (provider.privateKey?.kind === 'file') {
      found.push({ path: provider.privateKey.path, what: `the private key of ${provider.id}`, directory: false });
    }
    for (const source of [provider.subjectTokenSource, provider.actorTokenSource]) {
      if (!source) continue;
      const fields = source as { type: string; path?: unknown; tokenPath?: unknown };
      if (fields.type === 'file' && typeof fields.path === 'string') {
        found.push({ path: fields.path, what: `the subject token file of ${provider.id}`, directory: false });
      }
      if (fields.type === 'kubernetes_sa' && typeof fields.tokenPath === 'string') {
        found.push({ path: fields.tokenPath, what: `the service-account token of ${provider.id}`, directory: false });
      }
    }
  }
  // The real location too: kubelet's projected tokens and many key files are symlinks.
  const withReal = found.flatMap((entry) => {
    const absolute = path.resolve(expandHome(entry.path));
    let real: string | undefined;
    try {
      real = realpathSync(absolute);
    } catch {
      real = undefined;
    }
    return real && real !== absolute ? [{ ...entry, path: absolute }, { ...entry, path: real }] : [{ ...entry, path: absolute }];
  });
  return withReal;
}

function expandHome(value: string): string {
  return value === '~' || value.startsWith('~/') ? path.join(os.homedir(), value.slice(1)) : value;
}

const inside = (child: string, parent: string) => {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
};

/** Every string in the tool's arguments (paths, patterns, commands, patch texts), however nested. */
function stringsOf(value: unknown, depth = 0, out: string[] = []): string[] {
  if (depth > 6) return out;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, depth + 1, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) stringsOf(item, depth + 1, out);
  return out;
}

/** The spellings of a protected path a command line could use: absolute, `~/…`, `$HOME/…`. */
function spellings(target: string): string[] {
  const home = os.homedir();
  const forms = [target];
  if (home && home !== '/' && inside(target, home)) {
    const rest = path.relative(home, target);
    forms.push(`~/${rest}`, `$HOME/${rest}`, `\${HOME}/${rest}`);
  }
  return forms;
}

/**
 * The protected path a tool call would touch, or undefined. Each string argument is checked both as a path
 * (resolved against the project directory) and as text that mentions a protected path (a bash command,
 * a patch, a file:// URL).
 */
export function findProtectedAccess(
  toolName: string,
  args: unknown,
  guarded: readonly ProtectedPath[],
  directory: string = process.cwd(),
): ProtectedPath | undefined {
  if (guarded.length === 0) return undefined;
  const recursive = RECURSIVE_TOOLS.has(toolName);
  for (const text of stringsOf(args)) {
    const trimmed = text.trim();
    const asPath = trimmed.startsWith('file://') ? safeFileUrl(trimmed) : trimmed;
    const looksLikePath = asPath !== undefined && asPath !== '' && !/[\n\r\0]/.test(asPath) && asPath.length < 4096;
    const resolved = looksLikePath ? path.resolve(directory, expandHome(asPath)) : undefined;
    for (const entry of guarded) {
      if (resolved) {
        if (entry.directory ? inside(resolved, entry.path) : resolved === entry.path) return entry;
        if (recursive && inside(entry.path, resolved) && resolved !== path.parse(resolved).root) return entry;
      }
      if (spellings(entry.path).some((form) => mentions(text, form))) return entry;
    }
  }
  return undefined;
}

/** `form` appears in `text` as a whole path (`/a/tokens` is in `cat /a/tokens/x`, not in `/a/tokens-notes`). */
function mentions(text: string, form: string): boolean {
  for (let at = text.indexOf(form); at >= 0; at = text.indexOf(form, at + 1)) {
    const next = text[at + form.length];
    if (next === undefined || /[\s/"'`;|&)<>]/.test(next)) return true;
  }
  return false;
}

function safeFileUrl(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
}
