/**
 * The load generator, on its own thread: autocannon in the server's event loop would steal the
 * very time it measures. Runs a warm-up, tells the parent that measuring starts (so it can
 * start its event-loop monitor), runs the measured interval and posts a summary.
 */
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadMessage, LoadRequest, LoadSpec, LoadSummary } from './load-types.js';

function toAutocannon(request: LoadRequest): autocannon.Request {
  return {
    method: request.method,
    path: request.path,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  };
}

/**
 * `rotate: 'global'`: one shared cursor across all connections, so consecutive requests use
 * different entries (distinct sign-in accounts). Otherwise each connection cycles the list.
 */
function requestsOf(spec: LoadSpec): autocannon.Request[] {
  if (spec.rotate !== 'global') return spec.requests.map(toAutocannon);
  let cursor = 0;
  const all = spec.requests.map(toAutocannon);
  return [
    {
      setupRequest: (request) => {
        const next = all[cursor % all.length];
        cursor += 1;
        return { ...request, ...next };
      },
    },
  ];
}

/** Off the main thread autocannon returns raw histograms; its own aggregateResult decodes them. */
const aggregate = (autocannon as unknown as { aggregateResult(results: unknown[], opts: object): autocannon.Result }).aggregateResult;

async function run(spec: LoadSpec, seconds: number): Promise<autocannon.Result> {
  const options = { url: spec.url, connections: spec.connections, duration: seconds, timeout: 30 };
  const raw = await autocannon({ ...options, requests: requestsOf(spec) });
  return aggregate([raw], options);
}

function summarise(result: autocannon.Result): LoadSummary {
  return {
    requestsPerSecond: result.requests.average,
    total: result['2xx'] + result.non2xx,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    latencyAverage: result.latency.average,
    durationSeconds: result.duration,
  };
}

const spec = workerData as LoadSpec;
const port = parentPort;
if (!port) throw new Error('load-worker must run as a worker thread');
if (spec.warmupSeconds > 0) await run(spec, spec.warmupSeconds);
port.postMessage({ type: 'measuring' } satisfies LoadMessage);
const result = await run(spec, spec.durationSeconds);
port.postMessage({ type: 'done', summary: summarise(result) } satisfies LoadMessage);
