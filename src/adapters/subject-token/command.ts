import { subjectTokenError } from './errors.js';
import { MAX_SUBJECT_TOKEN_BYTES, type SubjectTokenSource } from './types.js';

const SOURCE = 'command';
/** Running programs named in a config file is opt-in, like google-auth-library's executable source. */
import { ALLOW_COMMANDS_ENV, DEFAULT_COMMAND_TIMEOUT_SEC } from '../../constants.js';
export { ALLOW_COMMANDS_ENV, DEFAULT_COMMAND_TIMEOUT_SEC };
const MIN_TIMEOUT_SEC = 1;
const MAX_TIMEOUT_SEC = 120;

/** stdout as the token: plain text, or JSON with `id_token`, `access_token` or `token`. */
function tokenFromOutput(stdout: string): string | undefined {
  const text = stdout.trim();
  if (!text.startsWith('{')) return text || undefined;
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const token = json.id_token ?? json.access_token ?? json.token;
    return typeof token === 'string' && token.trim() ? token.trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A token printed by a program (a cloud CLI, a vault helper). Spawned without a shell, with a timeout
 * (default 30 s, 1–120 s), stdout capped at 64 KiB; stderr is never shown (it may echo credentials).
 */
export function commandSource(options: { command: string; args?: string[]; timeoutSec?: number }): SubjectTokenSource {
  const timeoutSec = Math.min(MAX_TIMEOUT_SEC, Math.max(MIN_TIMEOUT_SEC, options.timeoutSec ?? DEFAULT_COMMAND_TIMEOUT_SEC));
  return {
    describe: () => `command ${options.command}`,
    read: (context) => {
      const env = context.env ?? process.env;
      if (env[ALLOW_COMMANDS_ENV] !== '1') {
        return Promise.reject(
          subjectTokenError(context.providerId, SOURCE, `running commands is disabled (${options.command})`, `set ${ALLOW_COMMANDS_ENV}=1 where the agent runs if you trust this configuration`, {
            code: 'config',
          }),
        );
      }
      // node:child_process is loaded on the first run of a command source, not at start.
      return import('node:child_process').then(({ spawn }) => new Promise<string>((resolve, reject) => {
        const child = spawn(options.command, options.args ?? [], { shell: false, stdio: ['ignore', 'pipe', 'ignore'], env: env as NodeJS.ProcessEnv });
        // Timer and abort by hand rather than spawn's `timeout`/`signal` options: same behaviour on Node and Bun.
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeoutSec * 1000);
        const onAbort = () => child.kill('SIGKILL');
        context.signal?.addEventListener('abort', onAbort, { once: true });
        const done = () => {
          clearTimeout(timer);
          context.signal?.removeEventListener('abort', onAbort);
        };
        const chunks: Buffer[] = [];
        let size = 0;
        let tooLarge = false;
        child.stdout.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_SUBJECT_TOKEN_BYTES) {
            tooLarge = true;
            child.kill('SIGKILL');
          } else chunks.push(chunk);
        });
        child.on('error', (error: NodeJS.ErrnoException) => {
          done();
          const missing = error.code === 'ENOENT';
          reject(
            subjectTokenError(
              context.providerId,
              SOURCE,
              missing ? `${options.command} was not found` : `${options.command} could not run (${error.code ?? error.name})`,
              missing ? 'install it or give its absolute path' : 'check the command and its permissions',
              { cause: error },
            ),
          );
        });
        child.on('close', (code, signal) => {
          done();
          if (tooLarge) {
            reject(subjectTokenError(context.providerId, SOURCE, `${options.command} printed more than 64 KiB`, 'make it print only the token'));
          } else if (signal || timedOut) {
            reject(
              subjectTokenError(
                context.providerId,
                SOURCE,
                timedOut ? `${options.command} did not finish within ${timeoutSec} s` : `${options.command} was stopped (${signal ?? 'aborted'})`,
                timedOut ? 'make it faster or raise timeoutSec (at most 120)' : 'check what stopped it',
                { code: timedOut ? 'timeout' : 'subject_token' },
              ),
            );
          } else if (code !== 0) {
            reject(subjectTokenError(context.providerId, SOURCE, `${options.command} exited with code ${code}`, 'run it by hand to see its error output'));
          } else {
            const token = tokenFromOutput(Buffer.concat(chunks).toString('utf8'));
            if (token) resolve(token);
            else
              reject(
                subjectTokenError(
                  context.providerId,
                  SOURCE,
                  `${options.command} printed no token`,
                  'print the token alone, or JSON with an id_token, access_token or token field',
                ),
              );
          }
        });
      }));
    },
  };
}
