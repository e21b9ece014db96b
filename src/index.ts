/**
 * The OpenCode entry. OpenCode calls every export as a plugin function and skips the whole module if any
 * export is something else, so this file exports plugin functions and nothing more.
 *
 * OpenCode offers one login per provider id and picks one `auth` entry per hooks object, so the main plugin
 * serves the first interactive provider and each `OAuthMachinesLoginN` serves one more (up to 8 in all).
 */
import { createOAuthMachinesPlugin } from './plugin/plugin.js';

const plugins = createOAuthMachinesPlugin();

export const OAuthMachinesPlugin = plugins.plugin;
export const OAuthMachinesLogin1 = plugins.loginSlots[0]!;
export const OAuthMachinesLogin2 = plugins.loginSlots[1]!;
export const OAuthMachinesLogin3 = plugins.loginSlots[2]!;
export const OAuthMachinesLogin4 = plugins.loginSlots[3]!;
export const OAuthMachinesLogin5 = plugins.loginSlots[4]!;
export const OAuthMachinesLogin6 = plugins.loginSlots[5]!;
export const OAuthMachinesLogin7 = plugins.loginSlots[6]!;
export default OAuthMachinesPlugin;
