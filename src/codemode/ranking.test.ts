import { describe, expect, it } from 'vitest';

import { type RankedDocument, RankingIndex } from './ranking.js';
import { WordNet } from './wordnet.js';

function doc(name: string, description: string, server = 'srv', paramNames: string[] = []): RankedDocument {
  return {
    name,
    title: '',
    description,
    paramNames,
    paramText: '',
    server,
    serverName: server,
    exactNames: [name, `${server}__${name}`],
  };
}

const LONG = `A tool that can do many things. ${'It reads files, lists issues, sends messages, takes screenshots, deletes entities and creates pages. '.repeat(25)}`;

const DOCUMENTS = [
  doc('read_text_file', 'Read the complete contents of a file as text.', 'filesystem', ['path']),
  doc('readMediaFile', 'Read an image or audio file as base64.', 'filesystem', ['path']),
  doc('get-sum', 'Returns the sum of two numbers.', 'everything', ['a', 'b']),
  doc('delete_entities', 'Delete entities from the knowledge graph.', 'memory', ['entityNames']),
  doc('create_entities', 'Create entities in the knowledge graph.', 'memory', ['entities']),
  doc('kitchen_sink', LONG, 'misc'),
  doc('send_message', 'Send a message to a channel.', 'chat', ['channel']),
  doc('post_message', 'Send a message to a channel.', 'chat', ['channel']),
];
/** The names of `documents` that `index` ranks for `query`, best first. */
function ranked(documents: RankedDocument[], index: RankingIndex, query: string): Array<string | undefined> {
  return index.score(query).map((s) => documents[s.id]?.name);
}
const names = (index: RankingIndex, query: string) => ranked(DOCUMENTS, index, query);

describe('RankingIndex', () => {
  const index = new RankingIndex(DOCUMENTS, new WordNet());

  it('matches tool names however they are spelt, exact names first', () => {
    expect(names(index, 'read_text_file')[0]).toBe('read_text_file');
    expect(names(index, 'readTextFile')[0]).toBe('read_text_file');
    expect(names(index, 'get-sum')[0]).toBe('get-sum');
    expect(names(index, 'read media file')[0]).toBe('readMediaFile');
    expect(names(index, 'filesystem__read_text_file')[0]).toBe('read_text_file');
  });

  it('stems words and drops stop words', () => {
    expect(names(index, 'deleting the entities')[0]).toBe('delete_entities');
    expect(index.score('the of and to')).toEqual([]);
  });

  it('does not let one long description that mentions everything win', () => {
    expect(names(index, 'read a file')[0]).toBe('read_text_file');
    expect(names(index, 'delete entities')[0]).toBe('delete_entities');
    expect(names(index, 'send a message')[0]).not.toBe('kitchen_sink');
  });

  it('finds a tool through a WordNet synonym the query used instead of its word', () => {
    expect(names(index, 'erase entities')[0]).toBe('delete_entities');
    expect(names(new RankingIndex(DOCUMENTS), 'erase entities')[0]).not.toBe('delete_entities');
  });

  it('completes a cut word and corrects a slip in a word the catalog does not use', () => {
    expect(names(index, 'entit')[0]).toMatch(/_entities$/);
    expect(names(index, 'knowlege graph')[0]).toMatch(/_entities$/);
  });

  it('breaks ties in document order (the caller sorts documents by server and name)', () => {
    expect(names(index, 'message channel').slice(0, 2)).toEqual(['send_message', 'post_message']);
  });
});

describe('RankingIndex: related words, quoted things, named servers', () => {
  const documents = [
    doc('get-sum', 'Returns the sum of two numbers.', 'everything', ['a', 'b']),
    doc('add_issue_comment', 'Add a comment to an existing issue.', 'github', ['body']),
    doc('create_entities', 'Create entities in the knowledge graph.', 'memory', ['entities']),
    doc('delete_entities', 'Delete entities from the knowledge graph.', 'memory', ['entityNames']),
    doc('browser_navigate', 'Navigate to a URL.', 'playwright', ['url']),
    doc('get_example', 'Returns an example response from the com endpoint over https.', 'everything'),
    doc('search_pages', 'Search the pages of a wiki by their words.', 'wiki', ['query']),
    doc('API-post-search', 'Notion | Search by title.', 'notion', ['query']),
  ];
  const index = new RankingIndex(documents, new WordNet());
  const top = (query: string) => ranked(documents, index, query)[0];

  it('finds a tool through a catalog word whose own senses reach the query word (add → sum)', () => {
    // `sum` lists `add` among its synonyms; `add` reaches `sum` only in a rarer sense of its own.
    expect(top('add two numbers')).toBe('get-sum');
    const found = (ranking: RankingIndex) => ranked(documents, ranking, 'add');
    expect(found(index)).toContain('get-sum');
    expect(found(new RankingIndex(documents))).not.toContain('get-sum');
  });

  it('finds a tool through a one-step more specific word (remove → delete)', () => {
    expect(top('remove entities')).toBe('delete_entities');
    expect(ranked(documents, new RankingIndex(documents), 'remove entities')[0]).toBe('create_entities');
  });

  it('reads a quoted URL as a URL, not as the words in it', () => {
    expect(top('go to https://example.com/')).toBe('browser_navigate');
    expect(top('go to example com https')).toBe('get_example');
  });

  it('prefers the tools of a server the query names', () => {
    expect(top('search pages in notion')).toBe('API-post-search');
    expect(top('search pages')).toBe('search_pages');
  });
});

describe('server topics', () => {
  const documents = [
    doc('browser_close', 'Close the window.', 'browser'),
    doc('browser_click', 'Click an element on the page.', 'browser'),
    doc('browser_navigate', 'Navigate the page to a URL.', 'browser'),
    doc('browser_snapshot', 'Capture a snapshot of the page.', 'browser'),
    doc('close_ticket', 'Close a ticket.', 'tracker'),
    doc('list_tickets', 'List the tickets of a project.', 'tracker'),
  ];
  const index = new RankingIndex(documents);
  const top = (query: string) => ranked(documents, index, query)[0];

  it('prefers the server whose tools as a whole are about the query, when one tool alone cannot tell', () => {
    expect(top('close the page')).toBe('browser_close');
    expect(top('close the project item')).toBe('close_ticket');
  });
});

describe('abbreviations', () => {
  const documents = [
    doc('list_directory', 'List the files in a directory.', 'filesystem'),
    doc('create_directory', 'Make a new directory.', 'filesystem'),
    doc('read_media_file', 'Read an image or audio file.', 'filesystem'),
    doc('send_message', 'Send a message to a channel.', 'chat'),
    doc('check_rules', 'Check the applicable rules.', 'policy'),
  ];
  const index = new RankingIndex(documents, new WordNet());
  const found = (query: string) => ranked(documents, index, query);

  it('reads a short word the catalog and WordNet do not know as the catalog words it abbreviates', () => {
    expect(found('img')[0]).toBe('read_media_file');
    expect(found('chnl')[0]).toBe('send_message');
    expect(found('dir')).toEqual(expect.arrayContaining(['list_directory', 'create_directory']));
    // Two abbreviations in one word (mk → make, dir → directory).
    expect(found('mkdir')[0]).toBe('create_directory');
  });

  it('does not read a word with several vowels as an abbreviation', () => {
    // a-l-i-c-e is in `applicable` in order, but a word with that many vowels is a name or a word, not short for one.
    expect(found('alice')).toEqual([]);
  });
});
