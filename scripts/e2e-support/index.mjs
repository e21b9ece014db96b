// @ts-check
/**
 * Shared by `npm run demo` and the end-to-end tests: run the real OpenCode CLI, isolated, against the lab,
 * with the plugin built from this checkout.
 * @module
 */
export { opencodeBinary, opencodeVersion, platformPackages } from './binary.mjs';
export { isolatedEnv, preseedConfigDir, stateDirs } from './env.mjs';
export { CONFIG_SCHEMA, PLUGIN_ENTRY, REPO_ROOT, oauthProvider, pluginSpec, pluginUrl, writeProject } from './project.mjs';
export { answerText, runOpencode, shownErrors, spawnOpencode, stripAnsi } from './run.mjs';
export { grepLines, logFiles, logSnapshot, logsSince, readLogs } from './logs.mjs';
export { SecretCollector } from './secrets.mjs';
export { startLab } from './lab.mjs';
export { screenLines, startTui, tmuxBinary } from './tmux.mjs';
