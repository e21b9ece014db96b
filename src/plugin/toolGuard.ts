import { realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafeFile } from '../adapters/safeFile.js';
import { APP_DIR } from '../adapters/storage/cacheDir.js';
import { subjectSourcesOf, type ProviderConfig } from '../config/index.js';

/**
 * Keeps the agent's own tools (read, write, edit, bash, grep, glob, list, patch, webfetch, …) away from the
 * token store, the app's cache directory and the secret files the config names (private keys, subject-token
 * files, `{file:…}` secrets, `~/.secrets/`). The model is not trusted with credentials: a prompt injection
 * could otherwise ask it to `cat` a refresh token.
 *
 * It is a filter on the tool call's text, not a sandbox: every path-like word is expanded (`~`, `$VAR`),
 * resolved against the project and any `cd` in the command, and realpath'ed before it is compared, globs are
 * matched segment by segment, and the app's directory name is refused in any path outside the project (even
 * one the guard cannot resolve, like `$(…)/opencode-oauth-machines`). A command that builds a path
 * at run time (string concatenation, `$(…)`, a script file written first) is out of its reach; see
 * docs/plugin.md, "What the tool guard stops, and what it cannot".
 */

export interface ProtectedPath {
  path: string;
  /** Why it is protected, for the refusal message (never its content). */
  what: string;
  /** A directory protects everything under it. */
  directory: boolean;
}

/** Tools that walk a tree: asking for a parent of a protected path (even `/`) reaches it too. */
const RECURSIVE_TOOLS = new Set(['grep', 'glob', 'list', 'ls']);
/** Shell programs that walk a tree whatever their flags. */
const WALKERS = /(?:^|[\s;|&(`'"/])(?:rg|ag|ack|find|fd|fdfind|tar|zip|7z|rsync|tree|git\s+grep)(?=$|[\s;|&)`'"])/;
/** Shell programs that walk a tree with a recursive flag (`grep -r`, `cp -a`, `ls -R`, `chmod -R`). */
const FLAGGED_WALKERS = /(?:^|[\s;|&(`'"/])(?:grep|egrep|fgrep|cp|ls|cat|chmod|chown|du|scp|strings|zgrep)(?=$|[\s;|&)`'"])/;
const RECURSIVE_FLAG = /(?:^|\s)(?:-[A-Za-z]*[rRa][A-Za-z]*|--recursive|--dereference-recursive|--archive|--directories=recurse|-d\s*recurse)(?=$|\s)/;

const STORE = 'the OAuth token store';

/** The secrets directory other OpenCode auth plugins (opencode-oci-oidc) keep key files in. */
const SECRETS_DIR = '.secrets';

export function protectedPaths(options: { storeDir?: string; providers: readonly ProviderConfig[]; home?: string }): ProtectedPath[] {
  const found: ProtectedPath[] = [];
  const home = options.home ?? os.homedir();
  if (options.storeDir) {
    found.push({ path: options.storeDir, what: STORE, directory: true });
    // The app's whole cache root: the store's siblings (model cache, other namespaces, quarantined copies).
    const root = path.dirname(path.resolve(options.storeDir));
    if (path.basename(root) === APP_DIR) found.push({ path: root, what: STORE, directory: true });
  }
  if (home && home !== '/') found.push({ path: path.join(home, SECRETS_DIR), what: 'the ~/.secrets directory', directory: true });
  for (const provider of options.providers) {
    if (provider.flow !== 'passthrough' && provider.client.method === 'private_key_jwt' && provider.client.privateKey.kind === 'file') {
      found.push({ path: provider.client.privateKey.path, what: `the private key of ${provider.id}`, directory: false });
    }
    for (const source of subjectSourcesOf(provider)) {
      const fields = source as { type: string; path?: unknown; tokenPath?: unknown };
      if (fields.type === 'file' && typeof fields.path === 'string') {
        found.push({ path: fields.path, what: `the subject token file of ${provider.id}`, directory: false });
      }
      if (fields.type === 'kubernetes_sa' && typeof fields.tokenPath === 'string') {
        found.push({ path: fields.tokenPath, what: `the service-account token of ${provider.id}`, directory: false });
      }
    }
  }
  return withRealPaths(found);
}

/** The real location too: kubelet's projected tokens and many key files are symlinks. */
function withRealPaths(found: readonly ProtectedPath[]): ProtectedPath[] {
  return found.flatMap((entry) => {
    const absolute = path.resolve(expandHome(entry.path));
    const real = realish(absolute);
    return real !== absolute ? [{ ...entry, path: absolute }, { ...entry, path: real }] : [{ ...entry, path: absolute }];
  });
}

const MAX_CONFIG_BYTES = 1024 * 1024;
const FILE_REFERENCE = /\{file:([^}\r\n]+)\}/g;
/** Config fields whose `{file:…}` is text written for the agent (OpenCode's prompts, instructions, descriptions). */
const AGENT_TEXT_FIELD = /^(?:prompt|instructions?|description|template|system)$/i;

/**
 * The files OpenCode substitutes into its config through `{file:path}`: OpenCode hands the plugin the
 * substituted values only, so the raw config texts are read to find the names. Relative names resolve
 * against the declaring file's directory, `~/` against the home directory, as OpenCode does.
 */
export async function configSecretFiles(options: {
  directory: string;
  env?: Record<string, string | undefined>;
  home?: string;
}): Promise<ProtectedPath[]> {
  const env = options.env ?? process.env;
  const home = options.home ?? os.homedir();
  const configHome = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  const names = ['opencode.json', 'opencode.jsonc', 'config.json'];
  const files = new Set<string>();
  const dirs = [path.join(configHome, 'opencode'), path.join(home, '.opencode')];
  if (env.OPENCODE_CONFIG_DIR) dirs.push(path.resolve(env.OPENCODE_CONFIG_DIR));
  // The project's files from the directory up to the root (OpenCode stops at the worktree; going further only adds).
  for (let dir = path.resolve(options.directory), depth = 0; depth < 64; depth++) {
    dirs.push(dir, path.join(dir, '.opencode'));
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const dir of dirs) for (const name of names) files.add(path.join(dir, name));
  if (env.OPENCODE_CONFIG) files.add(path.resolve(env.OPENCODE_CONFIG));

  const found: ProtectedPath[] = [];
  const collect = (text: string, base: string) => {
    for (const match of text.matchAll(FILE_REFERENCE)) {
      const name = match[1]!.trim();
      if (!name) continue;
      // Prompt and instruction files are the agent's own reading; anything else (keys, secrets, headers, an
      // unrecognised field) is protected.
      const key = /"([^"\\]+)"\s*:\s*"[^"]*$/.exec(text.slice(Math.max(0, match.index - 300), match.index))?.[1];
      if (key && AGENT_TEXT_FIELD.test(key)) continue;
      const absolute = name.startsWith('~/') ? path.join(home, name.slice(2)) : path.resolve(base, name);
      found.push({ path: absolute, what: 'a secret file named in opencode.json', directory: false });
    }
  };
  await Promise.all(
    [...files].map(async (file) => {
      const text = await readSafeFile(file, { maxBytes: MAX_CONFIG_BYTES, timeoutMs: 2_000 }).catch(() => undefined);
      if (text !== undefined) collect(text, path.dirname(file));
    }),
  );
  if (env.OPENCODE_CONFIG_CONTENT) collect(env.OPENCODE_CONFIG_CONTENT, path.resolve(options.directory));
  return withRealPaths(found);
}

function expandHome(value: string, home = os.homedir()): string {
  return value === '~' || value.startsWith('~/') ? path.join(home, value.slice(1)) : value;
}

/** realpath of the longest existing prefix, plus the rest: a path into a symlinked directory, existing or not. */
function realish(absolute: string): string {
  const rest: string[] = [];
  let current = absolute;
  for (let depth = 0; depth < 256; depth++) {
    try {
      const real = realpathSync(current);
      return rest.length ? path.join(real, ...rest.reverse()) : real;
    } catch {
      const parent = path.dirname(current);
      if (parent === current) break;
      rest.push(path.basename(current));
      current = parent;
    }
  }
  return absolute;
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

/** `$NAME` and `${NAME}` from the environment the agent's shell inherits; `~` at the start. */
function expandWord(word: string, env: Record<string, string | undefined>): string {
  const expanded = word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a?: string, b?: string) => env[(a ?? b)!] ?? '');
  return expandHome(expanded, env.HOME || os.homedir());
}

/** The words of a command line or text, quotes and escapes removed; `--opt=value` also gives `value`. */
function wordsOf(text: string): string[] {
  const words: string[] = [];
  for (const raw of text.split(/[\s;|&()<>`]+/)) {
    const word = raw.replace(/\\(.)/g, '$1').replace(/["']/g, '');
    if (!word) continue;
    words.push(word);
    const eq = word.indexOf('=');
    if (eq > 0 && eq < word.length - 1) words.push(word.slice(eq + 1));
  }
  return words;
}

const GLOB_CHARS = /[*?[\]{]/;

function segmentRegex(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end > i) {
        source += `[${segment.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      } else source += '\\[';
    } else if (c === '{') {
      const end = segment.indexOf('}', i + 1);
      if (end > i) {
        source += `(?:${segment
          .slice(i + 1, end)
          .split(',')
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\*/g, '[^/]*'))
          .join('|')})`;
        i = end;
      } else source += '\\{';
    } else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether an absolute glob reaches `target`: its segments match the target's for the target's whole length
 * (the glob names the target or something inside it), or `**` comes after a matching prefix. With
 * `ancestors`, a glob that stops at a directory above the target counts too.
 */
function globReaches(glob: string, target: string, ancestors: boolean): boolean {
  const pattern = glob.split('/').filter(Boolean);
  const parts = target.split('/').filter(Boolean);
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '**') return true;
    if (i >= parts.length) return true;
    if (!segmentRegex(pattern[i]!).test(parts[i]!)) return false;
  }
  return pattern.length >= parts.length || ancestors;
}

/** Splits a glob into its literal head (realpath'ed) and its pattern tail. */
function resolveGlob(absolute: string): string {
  const segments = absolute.split('/');
  const first = segments.findIndex((segment) => GLOB_CHARS.test(segment));
  if (first < 0) return realish(absolute);
  const head = segments.slice(0, first).join('/') || '/';
  return path.join(realish(head), ...segments.slice(first));
}

/**
 * Whether a word names the app's directory as a path: `<something>/opencode-oauth-machines`, or the bare name
 * as the target of `cd`/`pushd`. A bare name elsewhere (a grep pattern, `npm view opencode-oauth-machines`) is
 * no path, and a relative path that stays inside the project (`node_modules/opencode-oauth-machines/…`, a
 * checkout bearing the name) is the project's own.
 */
function namesAppDir(word: string, afterCd: boolean, expanded: string, directory: string): boolean {
  const at = word.indexOf(APP_DIR);
  if (at < 0) return false;
  const after = word[at + APP_DIR.length];
  if (after !== undefined && /[A-Za-z0-9_-]/.test(after)) return false;
  if (!(afterCd || word[at - 1] === '/' || (at > 0 && GLOB_CHARS.test(word[at - 1]!)))) return false;
  const absolute = path.resolve(directory, expanded);
  const plainRelative = !path.isAbsolute(word) && !/^[~$]/.test(word) && !word.split('/').includes('..');
  return !(inside(absolute, directory) && (plainRelative || path.isAbsolute(expanded)));
}

export interface GuardContext {
  /** The project directory relative paths resolve against. */
  directory?: string;
  /** The environment `$VAR` expands from (the agent's shell inherits OpenCode's). */
  env?: Record<string, string | undefined>;
}

/**
 * The protected path a tool call would touch, or undefined. Each string argument is checked as a path and
 * word by word (a bash command, a patch, a file:// URL): expanded, resolved against the project directory and
 * every `cd` target in it, realpath'ed, then compared with the protected paths; a tree-walking tool or
 * command is also refused a directory above a protected path, `/` included.
 */
export function findProtectedAccess(
  toolName: string,
  args: unknown,
  guarded: readonly ProtectedPath[],
  directoryOrContext: string | GuardContext = process.cwd(),
): ProtectedPath | undefined {
  if (guarded.length === 0) return undefined;
  const context = typeof directoryOrContext === 'string' ? { directory: directoryOrContext } : directoryOrContext;
  const directory = path.resolve(context.directory ?? process.cwd());
  const env = context.env ?? process.env;
  const recursiveTool = RECURSIVE_TOOLS.has(toolName);
  const strings = stringsOf(args);
  const store = guarded.find((candidate) => candidate.what === STORE);
  // A tree-walking tool with no path searches the project directory.
  if (recursiveTool) strings.push(directory);

  const judge = (absolute: string, recursive: boolean): ProtectedPath | undefined => {
    const resolved = GLOB_CHARS.test(absolute) ? resolveGlob(absolute) : realish(absolute);
    const isGlob = GLOB_CHARS.test(resolved);
    for (const entry of guarded) {
      if (isGlob) {
        if (globReaches(resolved, entry.path, recursive)) return entry;
        continue;
      }
      if (entry.directory ? inside(resolved, entry.path) : resolved === entry.path) return entry;
      if (recursive && inside(entry.path, resolved)) return entry;
    }
    return undefined;
  };

  for (const text of strings) {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.length > 100_000) continue;
    const commandWalks = WALKERS.test(trimmed) || (FLAGGED_WALKERS.test(trimmed) && RECURSIVE_FLAG.test(trimmed));
    const recursive = recursiveTool || commandWalks;
    // The whole string as one path (a read tool's filePath, a file:// URL).
    const whole = trimmed.startsWith('file://') ? safeFileUrl(trimmed) : trimmed;
    if (whole && !/[\n\r\0]/.test(whole) && whole.length < 4096) {
      const hit = judge(path.resolve(directory, expandWord(whole, env)), recursive);
      if (hit) return hit;
    }
    // Word by word, against the project directory and every directory the command `cd`s into.
    const words = wordsOf(trimmed);
    const bases = [directory];
    words.forEach((word, index) => {
      if ((word === 'cd' || word === 'pushd') && words[index + 1]) bases.push(path.resolve(directory, expandWord(words[index + 1]!, env)));
    });
    for (const [index, word] of words.entries()) {
      if (word.startsWith('-') && !word.includes('=')) continue;
      const expanded = expandWord(word.startsWith('file://') ? (safeFileUrl(word) ?? word) : word, env);
      if (!expanded || expanded.length >= 4096) continue;
      // The app's directory named by a path the rules below cannot resolve (`$(…)`, a variable set in the
      // command, a second `cd`): refused by its name.
      const afterCd = index > 0 && (words[index - 1] === 'cd' || words[index - 1] === 'pushd');
      if (store && namesAppDir(word, afterCd, expanded, directory)) return store;
      const candidates = path.isAbsolute(expanded) ? [expanded] : bases.map((base) => path.resolve(base, expanded));
      for (const candidate of candidates) {
        const hit = judge(candidate, recursive);
        if (hit) return hit;
      }
    }
  }
  return undefined;
}

function safeFileUrl(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
}

/** How long the `{file:…}` names read from the config texts are reused before the texts are read again. */
const CONFIG_SECRETS_TTL_MS = 5_000;

/**
 * The guard as the plugin uses it: the session's protected paths plus the `{file:…}` secrets of the config
 * texts (re-read at most every few seconds), judged in the agent's environment.
 */
export function createToolGuard(env: Record<string, string | undefined> = process.env, now: () => number = () => performance.now()) {
  let cached: { directory: string; at: number; paths: Promise<ProtectedPath[]> } | undefined;
  return async (toolName: string, args: unknown, guarded: readonly ProtectedPath[], directory: string) => {
    if (!cached || cached.directory !== directory || now() - cached.at > CONFIG_SECRETS_TTL_MS) {
      cached = { directory, at: now(), paths: configSecretFiles({ directory, env }).catch(() => []) };
    }
    const fromConfig = await cached.paths;
    return findProtectedAccess(toolName, args, [...guarded, ...fromConfig], { directory, env });
  };
}
