/**
 * `opencode-oauth-gateway`: start the Node host from env vars (seed 004's names) and an optional config file
 * (`--config <file>` or GATEWAY_CONFIG). `--print-schema` prints the config file's JSON Schema.
 */
import { readFile } from 'node:fs/promises';
import { GATEWAY_CONFIG_JSON_SCHEMA } from './configSchema.js';
import { GatewayConfigError, loadGatewayConfig } from './config.js';
import { createGateway, type Gateway } from './index.js';
import { serveNode, type NodeHost } from './node.js';

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ gateway: Gateway; host: NodeHost } | undefined> {
  if (argv.includes('--print-schema')) {
    console.log(JSON.stringify(GATEWAY_CONFIG_JSON_SCHEMA, null, 2));
    return undefined;
  }
  const at = argv.indexOf('--config');
  const file = at >= 0 ? argv[at + 1] : env.GATEWAY_CONFIG;
  let parsed: unknown;
  if (file) {
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new GatewayConfigError(`gateway config: cannot read ${file}: ${(error as Error).message}`);
    }
  }
  const config = loadGatewayConfig(env, parsed);
  const gateway = await createGateway(config);
  const host = await serveNode(gateway, { port: config.port, host: config.host });
  console.log(JSON.stringify({
    t: new Date().toISOString(),
    msg: 'listening',
    url: host.url,
    issuers: config.issuers.map((i) => i.issuer),
    budget_store: config.redisUrl ? 'redis' : 'memory',
    credential: config.upstream.credential.kind,
  }));
  const stop = () => {
    void host.close().then(() => gateway.close()).then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return { gateway, host };
}
