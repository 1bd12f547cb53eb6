import type { UpstreamOAuth } from '../auth/upstream/upstream-oauth.js';
import type { ConsoleAction } from './console-actions.js';

/**
 * "Sign in" on a remote server that asks for OAuth and has no sign-in of the gateway's own yet: the console's
 * way to do what `mcproxy login <server>` does, through the gateway's own callback. The console opens the
 * gateway's sign-in page, which names the server and the account before sending the browser on; the server
 * starts once the sign-in is done. Admin only: the gateway's sign-in is what every shared instance sends.
 */
export function signInAction(oauth: UpstreamOAuth): ConsoleAction {
  return {
    id: 'sign-in',
    label: 'Sign in',
    applies: (server) => oauth.needsSignIn(server.name),
    async run({ server }) {
      const link = await oauth.startSignIn(server.name);
      return { message: `Sign in to "${server.name}" on the page that opened`, open: link.url };
    },
  };
}
