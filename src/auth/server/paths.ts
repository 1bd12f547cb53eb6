/** The path the consent form posts to (outside `/authorize`, which the SDK's router owns). */
export const CONSENT_PATH = '/oauth/consent';

/** The paths the built-in authorization server answers (the SDK router's, and the consent form's). */
export const AUTHORIZATION_SERVER_PATHS: ReadonlySet<string> = new Set([
  '/authorize',
  '/token',
  '/register',
  '/revoke',
  '/.well-known/oauth-authorization-server',
  CONSENT_PATH,
]);
