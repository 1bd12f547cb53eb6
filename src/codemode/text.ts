import { stemmer } from 'stemmer';
import { eng } from 'stopword';

/**
 * Words that carry no meaning for finding a tool: the `stopword` package's English list, less the verbs that
 * tool names are made of (`get_issue`, `take_screenshot`, `make…`), which WordNet relates to other verbs.
 */
const KEPT_VERBS = new Set(['get', 'make', 'take']);
const STOP_WORDS: ReadonlySet<string> = new Set(eng.filter((word) => !KEPT_VERBS.has(word)));

const CAMEL_BOUNDARY = /([a-z0-9])([A-Z])|([A-Z]+)([A-Z][a-z])/g;
const NOT_A_WORD = /[^\p{L}\p{N}]+/u;

/** Lower-case words of an identifier: split on anything not a letter or digit, and on camelCase. */
export function splitWords(text: string): string[] {
  return text
    .replace(CAMEL_BOUNDARY, (_, a?: string, b?: string, c?: string, d?: string) =>
      a !== undefined ? `${a} ${b}` : `${c} ${d}`,
    )
    .toLowerCase()
    .split(NOT_A_WORD)
    .filter(Boolean);
}

/** Words of an identifier (`readTextFile`, `get-sum`, `browser_take_screenshot`). */
export const identifierWords = splitWords;

/**
 * Words of prose. A camelCase word there is usually a proper name (`JavaScript`, `GitHub`) and is kept whole;
 * one that is written like an identifier (`fullPage`) also gives its parts.
 */
export function proseWords(text: string): string[] {
  const words: string[] = [];
  for (const token of text.split(NOT_A_WORD)) {
    if (!token) continue;
    words.push(token.toLowerCase());
    if (/^[a-z]+[A-Z]/.test(token)) words.push(...splitWords(token));
  }
  return words;
}

/**
 * Words of a query: each token whole when the catalog knows it (`JavaScript`), else split as an identifier
 * (`listIssues` → list, issues), so that a model may write prose or names.
 */
export function queryWords(text: string, known: (word: string) => boolean): string[] {
  const words: string[] = [];
  for (const token of text.split(NOT_A_WORD)) {
    if (!token) continue;
    const whole = token.toLowerCase();
    const parts = splitWords(token);
    if (parts.length <= 1 || known(whole)) words.push(whole);
    else words.push(...parts);
  }
  return words;
}

/*
 * Things a query may quote rather than describe, replaced by the word for what they are: a URL is about a URL
 * (not `https`, `example`, `com`), `notes.txt` or `src/main.py` about a file.
 */
const QUOTED_THINGS: Array<[RegExp, string]> = [
  [/\b[a-z][a-z0-9+.-]*:\/\/\S+/giu, ' url '],
  [/\b(?:www\.)\S+/giu, ' url '],
  [/\b[\w.+-]+@[\w-]+\.[\w.-]+\b/gu, ' email '],
  [/(?:^|\s)(?:\.{0,2}\/)?(?:[\w.*-]+\/)+[\w.*-]*/gu, ' path '],
  [/(?:^|\s)[\w*-]*\.(?:[a-z][a-z0-9]{0,4})(?=\s|$|[,;:!?)])/giu, ' file '],
];

/** The query with URLs, e-mail addresses, paths and file names replaced by what they are. */
export function describeQuoted(query: string): string {
  let text = query;
  for (const [pattern, word] of QUOTED_THINGS) text = text.replace(pattern, word);
  return text;
}

export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word);
}

/** The Porter stem of a lower-case word (`deleting` → `delet`, `directories` → `directori`). */
export function stem(word: string): string {
  return word.length <= 2 ? word : stemmer(word);
}

/**
 * A name reduced to its letters and digits in lower case, so that `read_text_file`, `readTextFile` and
 * `read-text-file` compare equal.
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}
