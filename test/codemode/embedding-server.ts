import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OpenAI-compatible embeddings endpoint (POST /v1/embeddings) on 127.0.0.1, standing in for a local
 * model server such as Ollama: its "model" maps words to a few concepts, so texts that share a meaning but
 * no word get close vectors. It counts requests, and can be told to fail.
 */
const CONCEPTS = [
  ['folder', 'folders', 'directory', 'directories'],
  ['bug', 'bugs', 'issue', 'issues', 'defect'],
  ['popup', 'alert', 'alerts', 'dialog', 'modal'],
  ['weather', 'forecast', 'rain', 'temperature'],
];

function embed(text: string): number[] {
  const words = text.toLowerCase().split(/[^a-z]+/);
  return CONCEPTS.map((group) => words.filter((word) => group.includes(word)).length + 0.01);
}

export interface EmbeddingServer {
  url: string;
  requests: number;
  texts: number;
  failing: boolean;
  close(): Promise<void>;
}

export async function startEmbeddingServer(): Promise<EmbeddingServer> {
  const state = { requests: 0, texts: 0, failing: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      state.requests++;
      if (state.failing || req.url !== '/v1/embeddings' || req.method !== 'POST') {
        res.writeHead(state.failing ? 503 : 404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input: string[]; model: string };
      state.texts += body.input.length;
      const data = body.input.map((text, index) => ({ object: 'embedding', index, embedding: embed(text) }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
