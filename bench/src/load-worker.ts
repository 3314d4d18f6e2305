/**
 * The load generator, on its own thread: autocannon in the server's event loop would steal the
 * very time it measures. Runs a warm-up, tells the parent that measuring starts (so it can
 * start its event-loop monitor and CPU accounting), runs the measured interval and posts autocannon's
 * raw result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadMessage, LoadRequest, LoadSpec } from './load-types.js';

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

async function run(spec: LoadSpec, seconds: number): Promise<{ duration: number }> {
  const options = {
    url: spec.url,
    connections: spec.connections,
    duration: seconds,
    timeout: 30,
    requests: requestsOf(spec),
  };
  // Off the main thread autocannon skips aggregation and returns its raw, encoded result.
  return autocannon(options);
}

const spec = workerData as LoadSpec;
const port = parentPort;
if (!port) throw new Error('load-worker must run as a worker thread');
if (spec.warmupSeconds > 0) await run(spec, spec.warmupSeconds);
port.postMessage({ type: 'measuring' } satisfies LoadMessage);
const raw = await run(spec, spec.durationSeconds);
port.postMessage({ type: 'done', raw, seconds: raw.duration } satisfies LoadMessage);
