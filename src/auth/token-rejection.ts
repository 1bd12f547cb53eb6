/** Why an access token was not accepted: 401 `invalid_token`, or 503 when it could not be checked now. */
export interface TokenRejection {
  ok: false;
  status: 401 | 503;
  /** Says what is wrong with the token, never what the token is. */
  message: string;
}

export function rejectToken(message: string, status: 401 | 503 = 401): TokenRejection {
  return { ok: false, status, message };
}
