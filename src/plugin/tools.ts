import { z } from 'zod';
import { scrubSecrets } from '../adapters/redact.js';
import { isUserFlow, type FlowName } from '../machines/token.js';
import type { ProviderStatus } from '../runtime/index.js';
import { tool, type ToolDefinition } from './opencodeTypes.js';
import type { Session } from './session.js';

/**
 * Tools for the agent: see, renew and end the OAuth state of the managed providers. Output is plain text
 * for the model; it never holds a token, a code or a secret (errors are secret-free by contract and are
 * scrubbed once more).
 */

export interface ToolDeps {
  session(): Session | undefined;
  /** May this process start a browser or device login now? */
  mayLogin(): boolean;
  /** Runs a login (the shell's own, which also reports and resyncs models). */
  login(providerId: string): Promise<void>;
}

const providerArg = () => z.string().optional().describe('Provider id (as in opencode.json); all managed providers when omitted');

function formatDuration(seconds: number): string {
  const abs = Math.abs(seconds);
  const text = abs >= 3600 ? `${Math.floor(abs / 3600)}h${Math.floor((abs % 3600) / 60)}m` : abs >= 60 ? `${Math.floor(abs / 60)}m${abs % 60}s` : `${abs}s`;
  return seconds < 0 ? `expired ${text} ago` : `expires in ${text}`;
}

function statusLine(status: ProviderStatus, models: number | undefined): string {
  const parts = [
    `${status.providerId}: ${status.state}`,
    `flow ${status.flow}`,
    status.expiresInSec !== undefined ? formatDuration(status.expiresInSec) : 'no token',
    status.servable ? 'token usable' : 'token not usable',
    `${models ?? 0} models`,
    status.lastError ? `last error ${status.lastError.code}: ${status.lastError.message}` : undefined,
  ];
  return scrubSecrets(parts.filter(Boolean).join(', '));
}

const NO_SESSION = 'the OAuth plugin has no configuration yet (no managed provider)';

/** The session and the providers a tool call is about (all when none is named), or the text that says why there are none. */
function selectProviders(deps: ToolDeps, provider: string | undefined): { session: Session; ids: string[] } | string {
  const session = deps.session();
  if (!session) return NO_SESSION;
  if (provider === undefined) return { session, ids: [...session.providers.keys()] };
  if (session.providers.has(provider)) return { session, ids: [provider] };
  const broken = session.broken.get(provider);
  if (broken) return `${provider} is not managed: ${broken.message}`;
  return `${provider} is not an OAuth provider of this plugin (managed: ${[...session.providers.keys()].join(', ') || 'none'})`;
}

const errorText = (error: unknown) => scrubSecrets(error instanceof Error ? error.message : String(error));

export function createTools(deps: ToolDeps): Record<string, ToolDefinition<any>> {
  return {
    oauth_status: tool({
      description: 'Show the OAuth state of the managed model providers: state, flow, token lifetime, last error. Never shows a token.',
      args: { provider: providerArg() },
      async execute(args) {
        const selection = selectProviders(deps, args.provider);
        if (typeof selection === 'string') return selection;
        const { session, ids } = selection;
        const statuses = session.engine.status().filter((s) => ids.includes(s.providerId));
        const lines = statuses.map((s) => statusLine(s, session.runners.get(s.providerId)?.models()?.length));
        if (args.provider === undefined) for (const [id, issue] of session.broken) lines.push(`${id}: not managed (config error: ${issue.message})`);
        return lines.join('\n') || 'no managed provider';
      },
    }),
    oauth_refresh: tool({
      description:
        'Force a renewal of the access token of a managed provider (refresh, or re-acquisition for machine flows; a login for a user flow without a token when this session may start one).',
      args: { provider: providerArg() },
      async execute(args) {
        const selection = selectProviders(deps, args.provider);
        if (typeof selection === 'string') return selection;
        const { session, ids } = selection;
        const lines: string[] = [];
        for (const id of ids) {
          const flow: FlowName = session.providers.get(id)!.flow;
          try {
            const current = await session.engine.getToken(id, { interactive: false }).catch((error: unknown) => {
              if (!isUserFlow(flow)) throw error;
              return undefined;
            });
            if (!current) {
              if (!deps.mayLogin()) {
                lines.push(`${id}: not logged in; run \`opencode auth login\` and pick ${id}`);
                continue;
              }
              await deps.login(id);
              lines.push(`${id}: logged in`);
              continue;
            }
            const before = session.engine.status().find((s) => s.providerId === id)?.generation;
            session.engine.tokenRejected(id, current.accessToken);
            const renewed = await session.engine.getToken(id, { interactive: false });
            const after = session.engine.status().find((s) => s.providerId === id);
            const changed = renewed.accessToken !== current.accessToken;
            lines.push(
              `${id}: ${changed ? 'renewed' : 'unchanged'} (generation ${before ?? '?'} → ${after?.generation ?? '?'}, ${formatDuration(Math.round((renewed.expiresAt - Date.now()) / 1000))})`,
            );
          } catch (error) {
            lines.push(`${id}: renewal failed: ${errorText(error)}`);
          }
        }
        return lines.join('\n');
      },
    }),
    oauth_logout: tool({
      description: 'Log out of a managed provider: revoke its tokens at the IdP (RFC 7009, when offered) and delete them from the store.',
      args: { provider: z.string().describe('Provider id (as in opencode.json)') },
      async execute(args) {
        const selection = selectProviders(deps, args.provider);
        if (typeof selection === 'string') return selection;
        const { session } = selection;
        try {
          await session.engine.logout(args.provider);
          return `${args.provider}: logged out (tokens revoked where the IdP offers revocation, and deleted from the store)`;
        } catch (error) {
          return `${args.provider}: logout failed: ${errorText(error)}`;
        }
      },
    }),
  };
}
