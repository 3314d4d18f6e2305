/** Messages between the bench and its load-generator thread (load-worker.ts). */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadSpec {
  url: string;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  requests: LoadRequest[];
  rotate?: 'per-connection' | 'global';
}

/**
 * `raw` is autocannon's unaggregated result (encoded histograms), as its own worker mode posts
 * it; the parent aggregates several slices with `autocannon.aggregateResult`.
 */
export type LoadMessage = { type: 'measuring' } | { type: 'done'; raw: unknown; seconds: number };
