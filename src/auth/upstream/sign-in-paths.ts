/** The gateway's page that sends a browser on to an upstream server's sign-in (`?request=<state>`). */
export const UPSTREAM_SIGN_IN_PATH = '/oauth/upstream/sign-in';
/** Where upstream authorization servers send the browser back (`redirect_uri`). */
export const UPSTREAM_CALLBACK_PATH = '/oauth/upstream/callback';
