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
  /** The server's name alone: a query that names a server is about its tools. */
  serverName?: string;
  /** Names that count as an exact match (original and public name). */
  exactNames: string[];
}

/** `lead` is the description's first sentence (what the tool is for), `description` the rest (detail). */
type Field = 'name' | 'lead' | 'description' | 'params' | 'server';
const FIELDS: Field[] = ['name', 'lead', 'description', 'params', 'server'];

/*
 * BM25F: a term's frequency in each field is length-normalised (b) and weighted, the fields are summed, and
 * only then saturated (k1), so a term repeated in a long description cannot outweigh it once in a name.
 */
const FIELD_WEIGHT: Record<Field, number> = {
  name: 3,
  lead: 1.5,
  description: 0.6,
  params: 0.5,
  server: 1,
};
const FIELD_B: Record<Field, number> = { name: 0.3, lead: 0.5, description: 0.75, params: 0.75, server: 0.3 };
const K1 = 1.2;
/** Only the start of a long description is indexed: it says what the tool is for; the rest is detail. */
const MAX_DESCRIPTION_TERMS = 120;
/** How much a related word counts against the word the query used. */
const EXPANSION_WEIGHT: Record<Relation | 'typo' | 'acronym' | 'abbreviation', number> = {
  synonym: 0.4,
  derived: 0.4,
  broader: 0.25,
  narrower: 0.25,
  typo: 0.7,
  acronym: 0.8,
  abbreviation: 0.5,
};
/** A word from a rarer sense of the query word counts this much less per sense rank. */
const SENSE_DECAY = 0.8;
/** A catalog word's relation, seen from the query word, counts this much of the same relation forwards. */
const REVERSE_WEIGHT = 0.75;
/** A tool whose name words are all in the query scores up to this much more (weighted by how rare each is). */
const NAME_COVERAGE_BOOST = 0.6;
const EXACT_NAME_BOOST = 3;
/** A tool with every neighbouring pair of query words side by side (and each pair rare) scores this much more. */
const PHRASE_BOOST = 0.3;
/**
 * A tool scores up to this much more when its server is the one most about the query: a server's topic score
 * sums, per query word, the word's idf times the share of the server's tools that have it in their name or lead
 * sentence (`page` is a browser word, `repository` a GitHub one). Scaled to the best server's.
 */
const SERVER_TOPIC_BOOST = 4;
/** A tool on another server than the one the query names scores this share. */
const OTHER_SERVER_FACTOR = 0.25;
/** A short unknown word is read as at most this many catalog words per abbreviation (the most compact). */
const MAX_ABBREVIATIONS = 2;
const MAX_ABBREVIATION_VOWELS = 1;
/** Bounds on the work one query can ask for. */
export const MAX_QUERY_TERMS = 24;

/** A document holding a term: its id, the term's saturated BM25F frequency there, whether it is in the name. */
type Posting = [id: number, saturated: number, inName: boolean];

interface IndexedDocument {
  frequencies: Record<Field, Map<string, number>>;
  lengths: Record<Field, number>;
  nameTerms: Set<string>;
  /** Terms of the server's name. */
  serverTerms: Set<string>;
  /** Adjacent term pairs of the name and the lead sentence (`pull request`, `knowledge graph`). */
  pairs: Set<string>;
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
 * a WordNet database is given, query words widened to the related words the catalog actually uses: their
 * synonyms, derived forms and one-step broader or narrower words, and catalog words whose own senses reach the
 * query word. Related words weigh less than the query's own, and less again from rarer senses. On top of the
 * sum: coordination (how much of the query a tool covers), name coverage, neighbouring-word pairs, a preference
 * for the server whose tools are most about the query's words, and a stronger one for the server the query names.
 *
 * @example
 * const index = new RankingIndex(documents, new WordNet());
 * index.score('delete a folder'); // [{ id: 3, score: 7.1 }, …] best first
 */
export class RankingIndex {
  private readonly documents: IndexedDocument[];
  private readonly documentFrequency = new Map<string, number>();
  /** Words of the tools' names and lead sentences, for reading an abbreviation (`dir`, `mkdir`) as them. */
  private readonly abbreviable = new Set<string>();
  /** Per server, the share of its tools with each term in their name or lead sentence. */
  private readonly serverTopics = new Map<string, Map<string, number>>();
  /** Per document, its server's name. */
  private readonly servers: string[];
  private readonly averageLength: Record<Field, number>;
  private readonly postings: Map<string, Posting[]>;
  private readonly idfs = new Map<string, number>();
  private readonly pairFrequency = new Map<string, number>();
  /** Terms of every server's name. */
  private readonly serverTerms = new Set<string>();
  /** Initials of runs of name words (`pr` → pull, request), for abbreviations in queries. */
  private readonly acronyms = new Map<string, Set<string>>();
  /** The words of tools' names, whose own WordNet relations are looked up too. */
  private readonly keyWords: Set<string>;
  /** Related word's stem → catalog terms it is related to, with weights; built at the first query. */
  private reverse: Map<string, Map<string, number>> | undefined;

  constructor(
    documents: RankedDocument[],
    private readonly wordnet?: WordNet,
  ) {
    this.documents = documents.map(indexDocument);
    for (const document of documents) {
      const words = [...identifierWords(document.name), ...proseWords(leadSentence(document.description)[0])];
      for (const word of words) if (/^[a-z]{3,}$/.test(word) && !isStopWord(word)) this.abbreviable.add(word);
    }
    this.servers = documents.map((document) => document.serverName ?? '');
    this.buildServerTopics();
    const totals: Record<Field, number> = { name: 0, lead: 0, description: 0, params: 0, server: 0 };
    for (const document of this.documents) {
      const seen = new Set<string>();
      for (const field of FIELDS) {
        totals[field] += document.lengths[field];
        for (const term of document.frequencies[field].keys()) seen.add(term);
      }
      for (const term of seen) this.documentFrequency.set(term, (this.documentFrequency.get(term) ?? 0) + 1);
    }
    for (const document of documents) this.addAcronyms(identifierWords(document.name));
    this.keyWords = new Set(documents.flatMap(keyWords));
    const count = Math.max(1, this.documents.length);
    this.averageLength = {} as Record<Field, number>;
    for (const field of FIELDS) this.averageLength[field] = totals[field] / count || 1;
    this.postings = this.buildPostings();
    for (const term of this.documentFrequency.keys()) this.idfs.set(term, this.idf(term));
    for (const document of this.documents) {
      for (const term of document.serverTerms) this.serverTerms.add(term);
      for (const pair of document.pairs) this.pairFrequency.set(pair, (this.pairFrequency.get(pair) ?? 0) + 1);
    }
  }

  /** Every document with a positive score, best first (ties in document order: the caller's stable order). */
  score(query: string): Scored[] {
    const words = queryWords(describeQuoted(query), (word) => this.documentFrequency.has(stem(word)));
    const groups = [...new Set(words.filter((word) => !isStopWord(word)))]
      .slice(0, MAX_QUERY_TERMS)
      .map((word) => this.expand(word));
    const wanted = normalizeName(query);
    const queryPairs = adjacentPairs(words);
    const namedServers = groups.map((group) => group[0]!.term).filter((term) => this.serverTerms.has(term));
    // Per touched document, each query word's best score and the weight of the relation that gave it.
    // Also the name terms each touched document matched, at the best weight (for the name coverage).
    const best = new Map<number, { row: Float64Array; names?: Map<string, number> }>();
    for (const [g, group] of groups.entries()) {
      for (const { term, weight } of group) {
        const scale = weight * this.idf(term);
        for (const [id, saturated, inName] of this.postings.get(term) ?? []) {
          let entry = best.get(id);
          if (!entry) best.set(id, (entry = { row: new Float64Array(groups.length * 2) }));
          const { row } = entry;
          if (scale * saturated > row[g * 2]!) {
            row[g * 2] = scale * saturated;
            row[g * 2 + 1] = weight;
          }
          if (inName) {
            entry.names ??= new Map();
            entry.names.set(term, Math.max(entry.names.get(term) ?? 0, weight));
          }
        }
      }
    }
    // One word's topic is only how common it is on each server, which favours small servers: two words or more.
    const topics = groups.length >= 2 ? this.topicScores(groups) : new Map<string, number>();
    const topTopic = Math.max(0, ...topics.values());
    const scored: Scored[] = [];
    for (const [id, { row, names }] of best) {
      const document = this.documents[id]!;
      let score = 0;
      let matchedGroups = 0;
      for (let g = 0; g < groups.length; g++) {
        if (row[g * 2]! <= 0) continue;
        score += row[g * 2]!;
        // A word matched only through a loose relation counts as partly matched.
        matchedGroups += row[g * 2 + 1]!;
      }
      if (score <= 0) continue;
      // Coordination: a tool that matches more of the query's words beats one that matches one word strongly.
      score *= matchedGroups / groups.length;
      if (names) score *= 1 + NAME_COVERAGE_BOOST * this.nameCoverage(document, names);
      // Two query words side by side in the name or lead sentence are likely one thing (`pull request`).
      if (queryPairs.length > 0) {
        // Weighted by rarity: `github repository` begins half a catalog's descriptions and says little.
        let matchedPairs = 0;
        for (const pair of queryPairs) if (document.pairs.has(pair)) matchedPairs += this.pairRarity(pair);
        score *= 1 + (PHRASE_BOOST * matchedPairs) / queryPairs.length;
      }
      if (namedServers.length > 0 && !namedServers.some((term) => document.serverTerms.has(term))) {
        score *= OTHER_SERVER_FACTOR;
      }
      if (topTopic > 0) score *= 1 + (SERVER_TOPIC_BOOST * (topics.get(this.servers[id]!) ?? 0)) / topTopic;
      if (document.exactNames.has(wanted)) score *= EXACT_NAME_BOOST;
      scored.push({ id, score });
    }
    return scored.sort((a, b) => b.score - a.score || a.id - b.id);
  }

  /** Per server, how much its tools as a whole are about the query's words (see SERVER_TOPIC_BOOST). */
  private topicScores(groups: Expansion[][]): Map<string, number> {
    const scores = new Map<string, number>();
    for (const [server, shares] of this.serverTopics) {
      let total = 0;
      for (const group of groups) {
        let best = 0;
        for (const { term, weight } of group) best = Math.max(best, weight * this.idf(term) * (shares.get(term) ?? 0));
        total += best;
      }
      scores.set(server, total);
    }
    return scores;
  }

  private buildServerTopics(): void {
    const sizes = new Map<string, number>();
    for (const [id, document] of this.documents.entries()) {
      const server = this.servers[id]!;
      sizes.set(server, (sizes.get(server) ?? 0) + 1);
      const counts = this.serverTopics.get(server) ?? new Map<string, number>();
      for (const term of new Set([...document.frequencies.name.keys(), ...document.frequencies.lead.keys()])) {
        counts.set(term, (counts.get(term) ?? 0) + 1);
      }
      this.serverTopics.set(server, counts);
    }
    for (const [server, counts] of this.serverTopics) {
      const size = sizes.get(server)!;
      for (const [term, count] of counts) counts.set(term, count / size);
    }
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
    // A server's name is a name, not a word to widen (`notion` is not `thought` here).
    if (this.wordnet && !this.serverTerms.has(own)) {
      for (const related of this.wordnet.related(word)) {
        add(stem(related.word), EXPANSION_WEIGHT[related.relation] * SENSE_DECAY ** related.sense);
      }
      // The other direction: catalog words whose own senses reach the query word (`sum` for `add`).
      for (const [term, weight] of this.reverseRelations().get(own) ?? []) add(term, weight * REVERSE_WEIGHT);
    }
    // A short word neither the catalog nor WordNet knows may be an abbreviation (`dir`, `mkdir`): the words
    // it stands for count, and their own related words (make → create) less.
    if (!this.documentFrequency.has(own) && (this.wordnet?.related(word).length ?? 0) === 0) {
      const weight = EXPANSION_WEIGHT.abbreviation;
      for (const full of this.abbreviations(word)) {
        add(stem(full), weight);
        for (const related of this.wordnet?.related(full) ?? []) {
          add(stem(related.word), weight * EXPANSION_WEIGHT[related.relation] * SENSE_DECAY ** related.sense);
        }
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

  /**
   * Catalog words a short unknown word may abbreviate: words with its first letter that hold its letters in
   * order (`dir` → directory), the most compact first; a word of two abbreviations (`mkdir`) gives both.
   */
  private abbreviations(word: string): string[] {
    // An abbreviation keeps few of its word's vowels: `alice` or `acme` are names, not abbreviations.
    if (!/^[a-z]{2,7}$/.test(word) || (word.match(/[aeiou]/g)?.length ?? 0) > MAX_ABBREVIATION_VOWELS) return [];
    const whole = this.abbreviating(word);
    if (whole.length > 0) return whole;
    const out: string[] = [];
    for (let cut = 2; cut <= word.length - 2; cut++) {
      const left = this.abbreviating(word.slice(0, cut));
      const right = this.abbreviating(word.slice(cut));
      if (left.length > 0 && right.length > 0) out.push(...left, ...right);
    }
    return out;
  }

  /** Catalog words with the piece's first letter that hold all its letters in order, shortest first. */
  private abbreviating(piece: string): string[] {
    const found: string[] = [];
    for (const full of this.abbreviable) {
      if (full.length <= piece.length || full[0] !== piece[0]) continue;
      let at = 0;
      for (const letter of full) if (letter === piece[at]) at++;
      if (at === piece.length) found.push(full);
    }
    found.sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
    return found.slice(0, MAX_ABBREVIATIONS);
  }

  /**
   * Per term, the documents that hold it and its BM25F frequency there: each field's count length-normalised and
   * weighted, summed, then saturated. A query word's score in a document is the best of its expansions' (weight
   * × idf × this), so that synonyms never add up.
   */
  private buildPostings(): Map<string, Posting[]> {
    const postings = new Map<string, Posting[]>();
    for (const [id, document] of this.documents.entries()) {
      const tfs = new Map<string, number>();
      for (const field of FIELDS) {
        const b = FIELD_B[field];
        const norm = 1 - b + (b * document.lengths[field]) / this.averageLength[field];
        for (const [term, frequency] of document.frequencies[field]) {
          tfs.set(term, (tfs.get(term) ?? 0) + (FIELD_WEIGHT[field] * frequency) / norm);
        }
      }
      for (const [term, tf] of tfs) {
        const list = postings.get(term) ?? [];
        list.push([id, tf / (K1 + tf), document.nameTerms.has(term)]);
        postings.set(term, list);
      }
    }
    return postings;
  }

  private reverseRelations(): Map<string, Map<string, number>> {
    if (this.reverse) return this.reverse;
    const reverse = new Map<string, Map<string, number>>();
    for (const word of this.keyWords) {
      const term = stem(word);
      for (const related of this.wordnet?.related(word) ?? []) {
        const key = stem(related.word);
        const weight = EXPANSION_WEIGHT[related.relation] * SENSE_DECAY ** related.sense;
        const terms = reverse.get(key) ?? new Map<string, number>();
        if ((terms.get(term) ?? 0) < weight) terms.set(term, weight);
        reverse.set(key, terms);
      }
    }
    return (this.reverse = reverse);
  }

  /** A pair's idf over the largest possible idf: 1 for a pair one tool has, near 0 for one most have. */
  private pairRarity(pair: string): number {
    const n = this.documents.length;
    const df = this.pairFrequency.get(pair) ?? 0;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5)) / Math.log(1 + (n - 0.5) / 1.5);
  }

  private idf(term: string): number {
    const known = this.idfs.get(term);
    if (known !== undefined) return known;
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
  const [lead, rest] = leadSentence(document.description);
  const fieldTerms: Record<Field, string[]> = {
    name: [...nameTerms, ...stems(proseWords(document.title))],
    lead: stems(proseWords(lead)),
    description: stems(proseWords(rest)).slice(0, MAX_DESCRIPTION_TERMS),
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
    serverTerms: new Set(stems(identifierWords(document.serverName ?? ''))),
    pairs: new Set([...adjacentPairs(identifierWords(document.name)), ...adjacentPairs(proseWords(lead))]),
    exactNames: new Set(document.exactNames.map(normalizeName)),
  };
}

/** Stems of neighbouring words, at most one stop word apart (`read a file` → `read file`). */
function adjacentPairs(words: string[]): string[] {
  const pairs: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (isStopWord(words[i]!)) continue;
    const next = words[i + 1] !== undefined && isStopWord(words[i + 1]!) ? words[i + 2] : words[i + 1];
    if (next !== undefined && !isStopWord(next)) pairs.push(`${stem(words[i]!)} ${stem(next)}`);
  }
  return pairs;
}

/**
 * The words of a tool's name, less stop words. Lead sentences were tried too: no better on the tuning set, and
 * twice the WordNet lookups when an index is built.
 */
function keyWords(document: RankedDocument): string[] {
  const words = identifierWords(document.name);
  return words.filter((word) => !isStopWord(word) && /^[a-z]{3,}$/.test(word));
}

function stems(words: string[]): string[] {
  return words.filter((word) => !isStopWord(word)).map(stem);
}

/** The description's first sentence and the rest. */
function leadSentence(description: string): [string, string] {
  const text = description.trim();
  const end = /[.!?](\s|$)|\n/.exec(text);
  return end ? [text.slice(0, end.index + 1), text.slice(end.index + 1)] : [text, ''];
}
