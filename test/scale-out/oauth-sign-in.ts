import { createHash, randomBytes } from 'node:crypto';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';

/**
 * The owner's sign-in through the gateway's built-in authorization server, as an MCP client and a browser
 * would do it, with plain HTTP: registration (RFC 7591), the authorization request with PKCE S256, the
 * consent form with the owner's password, and the code exchange. Every step goes to `steps(i)`, so a test can
 * send each one to another replica. Returns the access and refresh tokens.
 */
export async function signInAsOwner(options: {
  /** The base URL of step i (0: register, 1: authorize, 2: consent, 3: token). */
  steps: (step: number) => string;
  /** The gateway's public URL: the resource the token is for. */
  resource: string;
  password: string;
  scope: string;
}): Promise<{ accessToken: string; refreshToken: string; clientId: string }> {
  const { steps, resource, password, scope } = options;
  const registered = await json(
    await fetch(`${steps(0)}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'scale-out test',
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      }),
    }),
  );
  const clientId = String(registered['client_id']);
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorize = new URL(`${steps(1)}/authorize`);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'scale-out',
    scope,
    resource,
  }))
    authorize.searchParams.set(name, value);
  const page = await fetch(authorize, { redirect: 'manual' });
  const html = await page.text();
  const requestId = /name="request" value="([^"]+)"/.exec(html)?.[1];
  if (!requestId) throw new Error(`no consent page (${page.status}): ${html.slice(0, 300)}`);
  const consent = await fetch(`${steps(2)}/oauth/consent`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request: requestId, action: 'allow', password, scope }),
  });
  const location = consent.headers.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (!code) throw new Error(`consent gave no code (${consent.status}): ${await consent.text()}`);
  const tokens = await json(
    await fetch(`${steps(3)}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
        client_id: clientId,
        resource,
      }),
    }),
  );
  return { accessToken: String(tokens['access_token']), refreshToken: String(tokens['refresh_token']), clientId };
}

async function json(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}
