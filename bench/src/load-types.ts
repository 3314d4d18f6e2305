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

export interface LoadSummary {
  requestsPerSecond: number;
  total: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50: number;
  latencyP99: number;
  latencyAverage: number;
  durationSeconds: number;
}

export type LoadMessage = { type: 'measuring' } | { type: 'done'; summary: LoadSummary };
