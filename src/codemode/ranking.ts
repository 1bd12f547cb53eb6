import { levenshteinWithin } from './suggest.js';
import { describeQuoted, identifierWords, isStopWord, normalizeName, proseWords, queryWords, stem } from './text.js';
import type { Relation, WordNet } from './wordnet.js';

/** The text of one tool, split by where it comes from; each field is weighted on its own. */
export interface RankedDocument {
  /** The tool's name (an identifier: split on `_`, `-`, `.` and camelCase). */
  name: string;
  /** The tool's title, if it has one. */
  title: string;
  description: string;
  /** Argument names (identifiers). */
  paramNames: string[];
  /** The arguments' descriptions. */
  paramText: string;
  /** The server's name and description. */
  server: string;
  /** Names that count as an exact match (original and public name). */
  exactNames: string[];
}

type Field = 'name' | 'description' | 'params' | 'server';
const FIELDS: Field[] = ['name', 'description', 'params', 'server'];

/*
 * BM25F: a term's frequency in each field is length-normalised (b) and weighted, the fields are summed, and
 * only then saturated (k1), so a term repeated in a long description cannot outweigh it once in a name.
 */
const FIELD_WEIGHT: Record<Field, number> = { name: 3, description: 1, params: 0.5, server: 1 };
const FIELD_B: Record<Field, number> = { name: 0.3, description: 0.75, params: 0.75, server: 0.3 };
const K1 = 1.2;
/** Only the start of a long description is indexed: it says what the tool is for; the rest is detail. */
const MAX_DESCRIPTION_TERMS = 120;
/** How much a related word counts against the word the query used. */
const EXPANSION_WEIGHT: Record<Relation | 'typo' | 'acronym', number> = {
  synonym: 0.4,
  derived: 0.4,
  broader: 0.25,
  narrower: 0.25,
  typo: 0.7,
  acronym: 0.8,
};
// TUNE-HOOK
const COORDINATION_BY_WEIGHT = process.env.COORD !== '0';
const TUNE = JSON.parse(process.env.RANK_TUNE ?? '{}') as Record<string, number>;
Object.assign(EXPANSION_WEIGHT, TUNE);
/** A word from a rarer sense of the query word counts this much less per sense rank. */
const SENSE_DECAY = TUNE.decay ?? 0.8;
/** A tool whose name words are all in the query scores up to this much more (weighted by how rare each is). */
const NAME_COVERAGE_BOOST = 0.6;
const EXACT_NAME_BOOST = 3;
/** Bounds on the work one query can ask for. */
export const MAX_QUERY_TERMS = 24;

interface IndexedDocument {
  frequencies: Record<Field, Map<string, number>>;
  lengths: Record<Field, number>;
  nameTerms: Set<string>;
  exactNames: Set<string>;
}

export interface Scored {
  id: number;
  score: number;
}

interface Expansion {
  term: string;
  weight: number;
}

/**
 * A field-weighted BM25 index over tools, with stemming, stop words, identifier-aware name matching and, when
 * a WordNet database is given, query words widened to their synonyms and derived forms that the catalog
 * actually uses.
 *
 * @example
 * const index = new RankingIndex(documents, new WordNet());
 * index.score('delete a folder'); // [{ id: 3, score: 7.1 }, …] best first
 */
export class RankingIndex {
  private readonly documents: IndexedDocument[];
  private readonly documentFrequency = new Map<string, number>();
  private readonly averageLength: Record<Field, number>;
  /** Initials of runs of name words (`pr` → pull, request), for abbreviations in queries. */
  private readonly acronyms = new Map<string, Set<string>>();

  constructor(
    documents: RankedDocument[],
    private readonly wordnet?: WordNet,
  ) {
    this.documents = documents.map(indexDocument);
    const totals: Record<Field, number> = { name: 0, description: 0, params: 0, server: 0 };
    for (const document of this.documents) {
      const seen = new Set<string>();
      for (const field of FIELDS) {
        totals[field] += document.lengths[field];
        for (const term of document.frequencies[field].keys()) seen.add(term);
      }
      for (const term of seen) this.documentFrequency.set(term, (this.documentFrequency.get(term) ?? 0) + 1);
    }
    for (const document of documents) this.addAcronyms(identifierWords(document.name));
    const count = Math.max(1, this.documents.length);
    this.averageLength = {
      name: totals.name / count || 1,
      description: totals.description / count || 1,
      params: totals.params / count || 1,
      server: totals.server / count || 1,
    };
  }

  /** Every document with a positive score, best first (ties in document order: the caller's stable order). */
  score(query: string): Scored[] {
    const words = queryWords(describeQuoted(query), (word) => this.documentFrequency.has(stem(word)));
    const groups = [...new Set(words.filter((word) => !isStopWord(word)))]
      .slice(0, MAX_QUERY_TERMS)
      .map((word) => this.expand(word));
    const wanted = normalizeName(query);
    const scored: Scored[] = [];
    for (const [id, document] of this.documents.entries()) {
      let score = 0;
      let matchedGroups = 0;
      const nameWeights = new Map<string, number>();
      for (const group of groups) {
        const best = this.groupScore(document, group);
        if (best.score <= 0) continue;
        score += best.score;
        // A word matched only through a loose relation counts as partly matched.
        matchedGroups += COORDINATION_BY_WEIGHT ? best.weight : 1;
        for (const { term, weight } of group) {
          if (document.nameTerms.has(term)) nameWeights.set(term, Math.max(nameWeights.get(term) ?? 0, weight));
        }
      }
      if (score <= 0) continue;
      // Coordination: a tool that matches more of the query's words beats one that matches one word strongly.
      score *= matchedGroups / groups.length;
      score *= 1 + NAME_COVERAGE_BOOST * this.nameCoverage(document, nameWeights);
      if (document.exactNames.has(wanted)) score *= EXACT_NAME_BOOST;
      scored.push({ id, score });
    }
    return scored.sort((a, b) => b.score - a.score || a.id - b.id);
  }

  /** The share of a tool's name the query covers, each name word weighted by its rarity. */
  private nameCoverage(document: IndexedDocument, matched: Map<string, number>): number {
    let total = 0;
    let covered = 0;
    for (const term of document.nameTerms) {
      const idf = this.idf(term);
      total += idf;
      covered += idf * (matched.get(term) ?? 0);
    }
    return total > 0 ? covered / total : 0;
  }

  /** The word's stem, plus related words (near spellings and abbreviations of an unknown word) the catalog uses. */
  private expand(word: string): Expansion[] {
    const own = stem(word);
    // Each term once, at the highest weight any relation gives it.
    const weights = new Map([[own, 1]]);
    const add = (term: string, weight: number): void => {
      if (!this.documentFrequency.has(term) || (weights.get(term) ?? 0) >= weight) return;
      weights.set(term, weight);
    };
    if (this.wordnet) {
      for (const related of this.wordnet.related(word)) {
        add(stem(related.word), EXPANSION_WEIGHT[related.relation] * SENSE_DECAY ** related.sense);
      }
    }
    if (!this.documentFrequency.has(own)) {
      for (const term of this.acronyms.get(word) ?? []) add(term, EXPANSION_WEIGHT.acronym);
      // A word the catalog never uses may be a slip or a word cut short: near spellings and completions count.
      if (own.length >= 4) {
        for (const term of this.documentFrequency.keys()) {
          if (term.startsWith(own) || levenshteinWithin(own, term, 1)) add(term, EXPANSION_WEIGHT.typo);
        }
      }
    }
    return [...weights].map(([term, weight]) => ({ term, weight }));
  }

  /** A query word's score: the best of its expansions, so that synonyms never add up. */
  private groupScore(document: IndexedDocument, group: Expansion[]): { score: number; weight: number } {
    let best = 0;
    let bestWeight = 0;
    for (const { term, weight } of group) {
      let tf = 0;
      for (const field of FIELDS) {
        const frequency = document.frequencies[field].get(term);
        if (!frequency) continue;
        const b = FIELD_B[field];
        tf += (FIELD_WEIGHT[field] * frequency) / (1 - b + (b * document.lengths[field]) / this.averageLength[field]);
      }
      const score = weight * this.idf(term) * (tf / (K1 + tf));
      if (tf > 0 && score > best) {
        best = score;
        bestWeight = weight;
      }
    }
    return { score: best, weight: bestWeight };
  }

  private idf(term: string): number {
    const df = this.documentFrequency.get(term) ?? 0;
    const n = this.documents.length;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  private addAcronyms(words: string[]): void {
    for (let start = 0; start < words.length; start++) {
      for (let length = 2; length <= 3 && start + length <= words.length; length++) {
        const run = words.slice(start, start + length);
        const acronym = run.map((word) => word[0]).join('');
        const terms = this.acronyms.get(acronym) ?? new Set<string>();
        for (const word of run) terms.add(stem(word));
        this.acronyms.set(acronym, terms);
      }
    }
  }
}

function indexDocument(document: RankedDocument): IndexedDocument {
  const nameTerms = stems(identifierWords(document.name));
  const fieldTerms: Record<Field, string[]> = {
    name: [...nameTerms, ...stems(proseWords(document.title))],
    description: stems(proseWords(document.description)).slice(0, MAX_DESCRIPTION_TERMS),
    params: [...stems(document.paramNames.flatMap(identifierWords)), ...stems(proseWords(document.paramText))],
    server: stems(proseWords(document.server)),
  };
  const frequencies = {} as Record<Field, Map<string, number>>;
  const lengths = {} as Record<Field, number>;
  for (const field of FIELDS) {
    const counts = new Map<string, number>();
    for (const term of fieldTerms[field]) counts.set(term, (counts.get(term) ?? 0) + 1);
    frequencies[field] = counts;
    lengths[field] = fieldTerms[field].length;
  }
  return {
    frequencies,
    lengths,
    nameTerms: new Set(nameTerms),
    exactNames: new Set(document.exactNames.map(normalizeName)),
  };
}

function stems(words: string[]): string[] {
  return words.filter((word) => !isStopWord(word)).map(stem);
}
