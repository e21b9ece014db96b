/**
 * The OpenCode entry. OpenCode calls every export as a plugin function and skips the whole module if any
 * export is something else, so this file exports plugin functions and nothing more.
 */
export const OAuthMachinesPlugin = async () => ({});
export default OAuthMachinesPlugin;
