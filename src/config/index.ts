/** The config layer: both shapes of the reference plugin, validated by one valibot schema per level. */
export { parseEngineServers, parseOpenCodeConfig, type ParseOptions, type ParsedConfig } from './parse.js';
export type { ConfigIssue } from './issues.js';
export {
  CLIENT_AUTH_METHODS,
  DEFAULT_REDIRECT_PATH,
  JWT_TOKEN_TYPE,
  PROVIDER_FIELDS,
  effectiveClientAuthMethod,
  engineProviderSchema,
  providerEntries,
  providerSchema,
  type ClientAuthMethod,
  type ParsedProvider,
  type PassthroughConfig,
  type PrivateKeyConfig,
} from './providerSchema.js';
export {
  clientSecretsOf,
  subjectSourcesOf,
  toProviderModel,
  type AuthorizationCodeProvider,
  type ClientCredential,
  type ClientCredentialsProvider,
  type DeviceCodeProvider,
  type EndpointOverrides,
  type EngineProviderConfig,
  type JwtBearerProvider,
  type OAuthProvider,
  type OpenCodeProviderConfig,
  type PassthroughProvider,
  type ProviderConfig,
  type SubjectSource,
  type TokenExchangeProvider,
} from './providerModel.js';
export {
  DEFAULT_CACHE_NAMESPACE,
  DEFAULT_RUNTIME,
  LOG_LEVELS,
  RUNTIME_FIELDS,
  fromOpenCodeLogLevel,
  runtimeEntries,
  runtimeSchema,
  type RuntimeConfig,
  type RuntimeLogLevel,
} from './runtimeSchema.js';
export {
  ALLOW_COMMANDS_ENV,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_KUBERNETES_TOKEN_PATH,
  STANDARD_KUBERNETES_TOKEN_PATH,
  TOKEN_SOURCE_TYPES,
  tokenSourceSchema,
  type TokenSourceConfig,
  type TokenSourceType,
} from './tokenSource.js';
