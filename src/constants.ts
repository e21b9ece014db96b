/**
 * Every constant more than one layer needs, defined once. Dependency-free on purpose: the config schema
 * (which applies the defaults), the adapters and the machines (which fall back to them) all import from here.
 */

/** RFC 8693 token type of a JWT: the default subject and actor token type. */
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** Same as the reference, so registered redirect URIs keep working. */
export const DEFAULT_REDIRECT_PATH = '/oauth2/callback';

/** Lifetime assumed for a token (or a passthrough subject token) that states none: no `expires_in`, no `exp`. */
export const DEFAULT_ASSUMED_LIFETIME_SEC = 300;

/** Per-request HTTP timeout (discovery, token endpoint, subject tokens, model list). */
export const DEFAULT_HTTP_TIMEOUT_MS = 15_000;

/** Allowance for clock differences with the IdP: part of the hard refresh margin. */
export const DEFAULT_TOKEN_EXPIRY_SKEW_MS = 30_000;

/** How long a browser or device login may take (the schema applies it; runners fall back to it). */
export const DEFAULT_LOGIN_TIMEOUT_SEC = 300;

/** The reference's default: a projected volume mounted at /var/run/secrets/tokens with path `oauth2/token`. */
export const DEFAULT_KUBERNETES_TOKEN_PATH = '/var/run/secrets/tokens/oauth2/token';
/** The token Kubernetes mounts in every pod (audience: the API server), documented as an option. */
export const STANDARD_KUBERNETES_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The token store's directory under the app's cache dir: one plain path segment. */
export const DEFAULT_CACHE_NAMESPACE = 'tokens';

/** `command` sources run only when this variable is `1`: config alone must not be able to run programs. */
export const ALLOW_COMMANDS_ENV = 'OPENCODE_OAUTH_ALLOW_COMMANDS';
/** How long a `command` source may run. */
export const DEFAULT_COMMAND_TIMEOUT_SEC = 30;
export const DEFAULT_COMMAND_TIMEOUT_MS = DEFAULT_COMMAND_TIMEOUT_SEC * 1000;
