/**
 * What models actually send as `code`, made runnable: a Markdown fence around it, a language tag on the
 * fence, TypeScript annotations. Only the shape is changed here; nothing is evaluated.
 */
export interface ShapedCode {
  code: string;
  /** The fence's language tag, lower case, when the code came in a fence. */
  language?: string;
  /** Lines removed before the code (the opening fence), to map error lines back. */
  linesBefore: number;
}

// An opening fence at the start of a line (``` or ~~~, optional tag), the body, and a closing fence.
const FENCE = /^[ \t]*(```+|~~~+)[ \t]*([\w+#.-]*)[^\n]*\n([\s\S]*?)\n?[ \t]*\1[ \t]*(?:\n|$)/m;

/**
 * The code inside a Markdown fence, if the code is (or contains) one; the code unchanged otherwise.
 *
 * @example
 * stripFence('```js\nreturn 1\n```'); // { code: 'return 1', language: 'js', linesBefore: 1 }
 */
export function stripFence(code: string): ShapedCode {
  if (!code.includes('```') && !code.includes('~~~')) return { code, linesBefore: 0 };
  const match = FENCE.exec(code);
  if (!match || match.index === undefined) return { code, linesBefore: 0 };
  const before = code.slice(0, match.index);
  const language = match[2]?.toLowerCase() || undefined;
  return {
    code: match[3] ?? '',
    ...(language ? { language } : {}),
    linesBefore: before.split('\n').length,
  };
}

const TYPESCRIPT_TAGS = new Set(['ts', 'typescript', 'tsx', 'mts', 'cts']);

export function isTypeScriptTag(language: string | undefined): boolean {
  return language !== undefined && TYPESCRIPT_TAGS.has(language);
}

/*
 * Signs of TypeScript that plain JavaScript never has. Only consulted after the code failed to compile as
 * JavaScript, so a false positive costs one transpilation, never a changed meaning.
 */
const TYPESCRIPT_SIGNS = [
  /\b(?:const|let|var)\s+[\w$]+\s*:\s*[\w$[\]{}<>|&, ]+\s*=/, // const x: number =
  /\)\s*:\s*(?:Promise<|[\w$]+(?:\[\])?\s*(?:=>|\{))/, // ): Promise<…> / ): string {
  /\(\s*[\w$]+\??\s*:\s*[\w$]/, // (x: string
  /\b(?:interface|type)\s+[A-Z][\w$]*\s*(?:<[^>]*>)?\s*[={]/, // interface Foo { / type Foo =
  /\bas\s+(?:const|unknown|any|string|number|boolean|[A-Z][\w$.]*)\b/, // as Foo
  /<[A-Z][\w$]*(?:\[\])?>\s*\(/, // generic call f<Foo>(
  /[\w$)\]]!\./, // non-null assertion x!.y
  /\benum\s+[A-Z][\w$]*\s*\{/,
];

export function looksLikeTypeScript(code: string): boolean {
  return TYPESCRIPT_SIGNS.some((sign) => sign.test(code));
}
