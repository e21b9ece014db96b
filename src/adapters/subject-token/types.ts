/** One interface for every place a subject (or actor) token can come from, AWS-credential-provider style. */
export interface SubjectReadContext {
  providerId: string;
  signal?: AbortSignal;
  /** Environment to read; default process.env. */
  env?: Record<string, string | undefined>;
}

export interface SubjectTokenSource {
  /** Names the source for messages: never the token. */
  describe(): string;
  /** Reads the token afresh; every call goes back to the source (no caching). */
  read(context: SubjectReadContext): Promise<string>;
}

/** The declarative forms the config layer maps to sources (see createSubjectTokenSource). */
export type SubjectTokenSourceConfig =
  | { type: 'github_actions'; audience?: string }
  | { type: 'kubernetes_sa'; tokenPath?: string }
  | { type: 'file'; path: string }
  | { type: 'env'; var: string }
  /** `command` is the program, or (as the config layer gives it) `[program, ...args]`. */
  | { type: 'command'; command: string | readonly string[]; args?: readonly string[]; timeoutSec?: number; timeoutMs?: number }
  | { type: 'url'; url: string; headers?: Record<string, string>; field?: string; timeoutSec?: number };

/** Subject tokens are JWTs of a few kB; anything larger is not one. */
export const MAX_SUBJECT_TOKEN_BYTES = 64 * 1024;
