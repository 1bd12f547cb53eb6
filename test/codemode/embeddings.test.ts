import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CatalogSearch } from '../../src/codemode/search.js';
import { type EmbeddingServer, startEmbeddingServer } from './embedding-server.js';
import { mathServer, TestHost, weatherServer } from './host.js';

// The optional second signal: an OpenAI-compatible embeddings endpoint the user runs. Off by default.

let host: TestHost;
let endpoint: EmbeddingServer;

beforeAll(async () => {
  host = new TestHost();
  await host.addInMemory('weather', weatherServer());
  await host.addInMemory('math', mathServer());
  endpoint = await startEmbeddingServer();
});

afterAll(async () => {
  await endpoint.close();
  await host.close();
});

describe('embedding endpoint', () => {
  it('is not used unless configured', async () => {
    const search = new CatalogSearch(host, { embeddings: false });
    const before = endpoint.requests;
    // The answer is the lexical one (WordNet may still relate a word or two), and the endpoint is never asked.
    const lexical = search.search({ query: 'rain tomorrow' });
    expect(await search.searchWithMeaning({ query: 'rain tomorrow' })).toEqual(lexical);
    expect(await search.searchWithMeaning({ query: 'zqxj blorf' })).toMatchObject({ tools: [] });
    expect(endpoint.requests).toBe(before);
    search.close();
  });

  it('finds a tool by meaning when no word matches, and embeds each tool once', async () => {
    const search = new CatalogSearch(host, { embeddings: { url: endpoint.url, model: 'toy' } });
    const result = await search.searchWithMeaning({ query: 'will there be rain' });
    expect(result.tools?.[0]).toMatchObject({ server: 'weather', name: 'get_forecast' });
    expect(result.note).toBeUndefined();
    const texts = endpoint.texts;
    await search.searchWithMeaning({ query: 'temperature' });
    // Only the new query was embedded: the tools' vectors are cached.
    expect(endpoint.texts - texts).toBe(1);
    // The lexical match still leads where there is one.
    expect((await search.searchWithMeaning({ query: 'add numbers' })).tools?.[0]?.name).toBe('add');
    search.close();
  });

  it('falls back to the lexical ranking, saying why, when the endpoint fails', async () => {
    const search = new CatalogSearch(host, { embeddings: { url: endpoint.url, model: 'toy-2' } });
    endpoint.failing = true;
    try {
      const result = await search.searchWithMeaning({ query: 'forecast' });
      expect(result.tools?.[0]?.name).toBe('get_forecast');
      expect(result.note).toBe('embeddings not used: the embeddings endpoint answered 503');
    } finally {
      endpoint.failing = false;
      search.close();
    }
  });
});
