import { identifierWords, isStopWord, proseWords } from './text.js';
import type { WordVectors } from './word-vectors.js';

/**
 * A query word counts by its rarity in the catalog times its reach (how close it comes to the closest catalog
 * word) to this power: a name or a word about nothing here (`Alice`, `Acme`) would otherwise weigh the most.
 */
const REACH_POWER = 2;
/** What a tool says it is for: its name, its title and the first sentence of its description. */
export interface MeaningDocument {
  name: string;
  /** The tool's title, or the one its annotations give (`Drag mouse`); often plainer words than the name's. */
  title?: string;
  description: string;
}

/**
 * A second signal beside the lexical ranking, from word vectors: for each query word, how close in meaning the
 * closest word of a tool's name, title or lead sentence is (`total` ~ `sum`, `folder` ~ `directory`), averaged over
 * the query's words weighted by their rarity and reach (see REACH_POWER). It finds a tool that shares no word with the query;
 * the lexical score still decides between tools that do.
 *
 * @example
 * const meaning = new MeaningIndex(documents, WordVectors.load()!);
 * meaning.similarities('total of 12 and 30'); // Float64Array, one 0–1 value per document
 */
export class MeaningIndex {
  /** Per document, its distinct words' positions in {@link vocabulary}. */
  private readonly rows: Int32Array[];
  /** Distinct vector rows of the whole catalog (a query word is compared with each once). */
  private readonly vocabulary: Int32Array;
  private readonly documentFrequency = new Map<string, number>();

  constructor(
    documents: MeaningDocument[],
    private readonly vectors: WordVectors,
  ) {
    const positions = new Map<number, number>();
    this.rows = documents.map((document) => {
      const words = new Set(
        [
          ...identifierWords(document.name),
          ...proseWords(document.title ?? ''),
          ...proseWords(leadSentence(document.description)),
        ].filter((word) => !isStopWord(word)),
      );
      for (const word of words) this.documentFrequency.set(word, (this.documentFrequency.get(word) ?? 0) + 1);
      const rows: number[] = [];
      for (const word of words) {
        const row = vectors.id(word);
        if (row === undefined) continue;
        if (!positions.has(row)) positions.set(row, positions.size);
        rows.push(positions.get(row)!);
      }
      return Int32Array.from(rows);
    });
    this.vocabulary = Int32Array.from(positions.keys());
  }

  /** One similarity per document (0 when no query word has a vector). */
  similarities(words: string[]): Float64Array {
    const out = new Float64Array(this.rows.length);
    const query = [...new Set(words.filter((word) => !isStopWord(word)))]
      .map((word) => ({ row: this.vectors.id(word), idf: this.idf(word) }))
      .filter((entry): entry is { row: number; idf: number } => entry.row !== undefined);
    if (query.length === 0) return out;
    let total = 0;
    for (const { row, idf } of query) {
      // This query word against every catalog word once; each tool then takes its closest word's value.
      const closeness = new Float64Array(this.vocabulary.length);
      let reach = 0;
      for (const [position, other] of this.vocabulary.entries()) {
        closeness[position] = Math.max(0, this.vectors.dot(row, other));
        reach = Math.max(reach, closeness[position]!);
      }
      const weight = idf * reach ** REACH_POWER;
      for (const [id, rows] of this.rows.entries()) {
        let best = 0;
        for (const position of rows) best = Math.max(best, closeness[position]!);
        out[id]! += weight * best;
      }
      total += weight;
    }
    if (total > 0) for (let id = 0; id < out.length; id++) out[id]! /= total;
    return out;
  }

  private idf(word: string): number {
    const n = this.rows.length;
    const df = this.documentFrequency.get(word) ?? 0;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }
}

/** The description's first sentence. */
function leadSentence(description: string): string {
  const text = description.trim();
  const end = /[.!?](\s|$)|\n/.exec(text);
  return end ? text.slice(0, end.index + 1) : text;
}
