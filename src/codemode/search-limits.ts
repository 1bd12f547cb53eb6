/** Bounds of `search` and `api.search`, shared with the sandbox worker (which must not load the index code). */
export const MAX_QUERY_CHARS = 1_000;
export const MAX_SEARCH_LIMIT = 200;
/** Longest server, tool or namespace name accepted anywhere in Code Mode: the protocol's limit for names. */
export const MAX_NAME_CHARS = 128;
/**
 * `api.search` and `api.manifest` calls allowed in one execution. Each runs on the gateway's main thread (a
 * worst-case search costs about 45 ms of CPU there), so without a count a guest looping on them would spend the
 * gateway's CPU for its whole time limit; 32 of them cost at most about 1.5 s.
 */
export const MAX_SEARCH_CALLS_PER_EXECUTION = 32;
