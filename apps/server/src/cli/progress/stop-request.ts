/**
 * Ctrl-C (SIGINT) or SIGTERM asks a long CLI to stop at its next safe point: between batches,
 * rows or tables, never inside a transaction it would leave half done. The command sees
 * `signal.aborted`, rolls back or removes its temporary file, prints its summary and exits 130. A
 * second Ctrl-C stops at once, after the synchronous `cleanup` steps (removing a temporary file);
 * open transactions then roll back in PostgreSQL when the connection drops.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT_CODES } from './progress-reporter.js';

export interface StopRequest {
  readonly signal: AbortSignal;
  /** Runs on a forced stop (second Ctrl-C); must be synchronous. */
  cleanup(step: () => void): void;
  dispose(): void;
}

export function listenForStop(onFirst: (signalName: NodeJS.Signals) => void): StopRequest {
  const controller = new AbortController();
  const steps: (() => void)[] = [];
  const handler = (signalName: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      controller.abort(new Error(`stopped by ${signalName}`));
      onFirst(signalName);
      return;
    }
    for (const step of steps) {
      try {
        step();
      } catch {
        // best effort: the process is leaving
      }
    }
    process.exit(EXIT_CODES.interrupted);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    cleanup: (step) => void steps.push(step),
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/**
 * `--pace-ms N` slows a CLI down by N milliseconds per batch (or row, or table), so progress and
 * Ctrl-C can be watched on a small data set (tests, demos). Never needed in real runs.
 */
export function pacer(ms: number, signal: AbortSignal): () => Promise<void> {
  if (ms <= 0) return async () => undefined;
  return () => sleep(ms, undefined, { signal }).catch(() => undefined);
}

/** Takes the flags every long CLI shares (`--json`, `--pace-ms N`) out of `argv`. */
export function commonFlags(argv: readonly string[]): {
  json: boolean;
  paceMs: number;
  rest: string[];
} {
  const rest: string[] = [];
  let json = false;
  let paceMs = 0;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--json') json = true;
    else if (arg === '--pace-ms' || arg.startsWith('--pace-ms=')) {
      const value = arg === '--pace-ms' ? argv[(i += 1)] : arg.slice('--pace-ms='.length);
      paceMs = Number(value);
      if (!Number.isSafeInteger(paceMs) || paceMs < 0 || paceMs > 60_000)
        throw new Error('--pace-ms must be a whole number of milliseconds (0 to 60000)');
    } else rest.push(arg);
  }
  return { json, paceMs, rest };
}
