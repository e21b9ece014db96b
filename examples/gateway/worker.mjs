// The Workers entry: the gateway's fetch app, configured from the Worker's vars and secrets.
export { default } from 'opencode-oauth-machines/gateway/workers';
