import { browserCommand } from '../adapters/browser/index.js';
import type { Surface } from './userSurface.js';

/**
 * May a request start a login that only a person can finish? Only where someone can answer it:
 *
 * | where | login from a request |
 * |---|---|
 * | `OPENCODE_OAUTH_INTERACTIVE=1` / `=0` | always / never (checked first) |
 * | CI (`CI`, `GITHUB_ACTIONS`, `GITLAB_CI`, …) | never: a machine flow is the answer there |
 * | the TUI | yes (toast + dialog) |
 * | a TTY on stdin or stderr | yes (stderr) |
 * | a browser can be opened (`BROWSER`, macOS, Windows, Linux with a display) | yes: the browser is the surface |
 * | anything else | no |
 */

export const INTERACTIVE_ENV = 'OPENCODE_OAUTH_INTERACTIVE';

/** Variables CI systems set; any one of them present (and not "false"/"0") means nobody is at the keyboard. */
export const CI_VARIABLES = [
  'CI',
  'GITHUB_ACTIONS',
  'GITLAB_CI',
  'BUILDKITE',
  'JENKINS_URL',
  'TF_BUILD',
  'CIRCLECI',
  'TRAVIS',
  'TEAMCITY_VERSION',
  'BITBUCKET_BUILD_NUMBER',
  'CODEBUILD_BUILD_ID',
  'DRONE',
  'APPVEYOR',
  'SEMAPHORE',
] as const;

export type LoginDecision =
  | { allowed: true; because: 'forced' | 'tui' | 'tty' | 'browser' }
  | { allowed: false; because: 'disabled' | 'ci' | 'nobody'; ciVariable?: string };

export interface LoginPlace {
  env: Record<string, string | undefined>;
  surface: Surface;
  tty?: { stdin: boolean; stderr: boolean };
  platform?: NodeJS.Platform;
}

const YES = new Set(['1', 'true', 'yes']);
const NO = new Set(['0', 'false', 'no']);

/** The first CI variable set to something other than an explicit "no". */
export function ciVariable(env: Record<string, string | undefined>): string | undefined {
  return CI_VARIABLES.find((name) => {
    const value = env[name]?.trim().toLowerCase();
    return value !== undefined && value !== '' && !NO.has(value);
  });
}

export function loginDecision(place: LoginPlace): LoginDecision {
  const { env } = place;
  const setting = env[INTERACTIVE_ENV]?.trim().toLowerCase();
  if (setting && YES.has(setting)) return { allowed: true, because: 'forced' };
  if (setting && NO.has(setting)) return { allowed: false, because: 'disabled' };
  const ci = ciVariable(env);
  if (ci) return { allowed: false, because: 'ci', ciVariable: ci };
  if (place.surface === 'tui') return { allowed: true, because: 'tui' };
  const tty = place.tty ?? { stdin: !!process.stdin?.isTTY, stderr: !!process.stderr?.isTTY };
  if (tty.stdin || tty.stderr) return { allowed: true, because: 'tty' };
  // Only whether an opener exists; the URL is not used.
  if (browserCommand('about:blank', env, place.platform ?? process.platform)) return { allowed: true, because: 'browser' };
  return { allowed: false, because: 'nobody' };
}

/** The refusal a request gets where no login may start: names the provider and the exact command. */
export function refusalMessage(
  provider: { id: string; name: string; flow: string },
  method: string,
  decision: Extract<LoginDecision, { allowed: false }>,
): string {
  const command = `run \`opencode auth login\`, pick "${provider.name}" and "${method}" (or \`opencode providers login -p ${provider.id} -m "${method}"\`)`;
  const head = `[${provider.id}] not logged in to ${provider.name} —`;
  switch (decision.because) {
    case 'ci':
      return `${head} ${decision.ciVariable} is set, and CI cannot answer a ${provider.flow} login: use a machine flow here (client_credentials, jwt_bearer or token_exchange); on a workstation ${command}`;
    case 'disabled':
      return `${head} ${command} (${INTERACTIVE_ENV}=0 keeps requests from starting a login)`;
    default:
      return `${head} ${command} (nobody can answer a login here: no terminal and no browser; or set ${INTERACTIVE_ENV}=1 to log in from the first request)`;
  }
}
