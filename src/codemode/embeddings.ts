import { createHash } from 'node:crypto';

import { deadlineSignal } from '../deadline.js';
import { errorMessage } from '../errors.js';

/** Where an OpenAI-compatible embeddings endpoint is (e.g. a local Ollama at http://127.0.0.1:11434/v1). */
export interface EmbeddingSettings {
  /** Base URL; requests go to `<url>/embeddings`. */
  url: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const BATCH = 64;
/** Texts sent per tool: its name and the start of its description, which say what it is for. */
const MAX_TEXT_CHARS = 1_000;
const MAX_CACHED = 20_000;
/** How much the meaning (cosine similarity) counts beside the lexical score, both scaled to 0–1. */
export const EMBEDDING_WEIGHT = 0.5;

/**
 * The endpoint settings from the environment: off unless MCPROXY_EMBEDDINGS_URL and MCPROXY_EMBEDDINGS_MODEL
 * are set (MCPROXY_EMBEDDINGS_API_KEY is optional). Nothing is downloaded: the user runs the model.
 *
 * @example
 * embeddingSettingsFromEnv({ MCPROXY_EMBEDDINGS_URL: 'http://127.0.0.1:11434/v1', MCPROXY_EMBEDDINGS_MODEL: 'nomic-embed-text' });
 */
export function embeddingSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): EmbeddingSettings | undefined {
  const url = env.MCPROXY_EMBEDDINGS_URL;
  const model = env.MCPROXY_EMBEDDINGS_MODEL;
  if (!url || !model) return undefined;
  return { url, model, ...(env.MCPROXY_EMBEDDINGS_API_KEY ? { apiKey: env.MCPROXY_EMBEDDINGS_API_KEY } : {}) };
}

/**
 * A second ranking signal from an embedding model: vectors of tool texts (cached by content, so a catalog
 * change embeds only what changed) and of queries, compared by cosine similarity.
 */
export class EmbeddingClient {
  private readonly cache = new Map<string, Float32Array>();

  constructor(private readonly settings: EmbeddingSettings) {}

  /** One similarity per text, in order; rejects when the endpoint fails, so the caller can fall back. */
  async similarities(query: string, texts: string[], signal?: AbortSignal): Promise<number[]> {
    const clipped = texts.map((text) => text.slice(0, MAX_TEXT_CHARS));
    const [queryVector] = await this.vectors([query.slice(0, MAX_TEXT_CHARS)], signal);
    const vectors = await this.vectors(clipped, signal);
    if (!queryVector) throw new Error('the endpoint returned no vector for the query');
    return vectors.map((vector) => cosine(queryVector, vector));
  }

  private async vectors(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const keys = texts.map((text) => createHash('sha256').update(text).digest('base64'));
    const missing = [...new Set(texts.filter((_, i) => !this.cache.has(keys[i] ?? '')))];
    for (let start = 0; start < missing.length; start += BATCH) {
      const batch = missing.slice(start, start + BATCH);
      const embedded = await this.request(batch, signal);
      for (const [i, text] of batch.entries()) {
        if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
        this.cache.set(createHash('sha256').update(text).digest('base64'), embedded[i] ?? new Float32Array());
      }
    }
    return keys.map((key) => this.cache.get(key) ?? new Float32Array());
  }

  private async request(input: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    let response: Response;
    try {
      response = await fetch(`${this.settings.url.replace(/\/$/, '')}/embeddings`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.settings.apiKey ? { authorization: `Bearer ${this.settings.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: this.settings.model, input }),
        signal: deadlineSignal(this.settings.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal),
      });
    } catch (error) {
      throw new Error(`the embeddings endpoint did not answer: ${errorMessage(error)}`);
    }
    if (!response.ok) throw new Error(`the embeddings endpoint answered ${response.status}`);
    const body = (await response.json()) as { data?: Array<{ index?: number; embedding?: unknown }> };
    const out: Float32Array[] = new Array<Float32Array>(input.length).fill(new Float32Array());
    for (const [position, item] of (body.data ?? []).entries()) {
      const index = typeof item.index === 'number' ? item.index : position;
      if (Array.isArray(item.embedding) && index >= 0 && index < input.length) {
        out[index] = Float32Array.from(item.embedding as number[]);
      }
    }
    return out;
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length === 0 || a.length !== b.length) return 0;
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA > 0 && normB > 0 ? dot / Math.sqrt(normA * normB) : 0;
}
