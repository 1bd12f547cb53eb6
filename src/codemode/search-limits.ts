/** Bounds of `search` and `api.search`, shared with the sandbox worker (which must not load the index code). */
export const MAX_QUERY_CHARS = 1_000;
export const MAX_SEARCH_LIMIT = 200;
/** Longest server, tool or namespace name accepted anywhere in Code Mode: the protocol's limit for names. */
export const MAX_NAME_CHARS = 128;
