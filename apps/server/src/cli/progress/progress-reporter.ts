/**
 * Progress for the long operator CLIs (import-legacy, rotate-keys, backup, restore, audit export;
 * docs/deployment.md "Operator CLIs"). Everything goes to stderr, as the CLIs' messages always
 * have: stdout stays for data (`pnpm backup -`, `audit export` without --out, `audit verify`).
 *
 * - `tty` (stderr is a terminal): a live bar from `cli-progress` with rows done, rate and time left.
 * - `plain` (CI, log files): one line per further 10% done, or after 10 s without one.
 * - `json` (`--json`): one JSON object per line: `progress` events (per further 1% or each
 *   second), `log` messages, and one final `summary` with the status and the exit code.
 */
import cliProgress from 'cli-progress';

export type ProgressMode = 'tty' | 'plain' | 'json';
export type ProgressUnit = 'rows' | 'bytes';
export type RunStatus = 'ok' | 'partial' | 'interrupted' | 'failed';

/** 0 done; 1 failed or done with refused/failed rows; 130 stopped by Ctrl-C (128 + SIGINT). */
export const EXIT_CODES: Readonly<Record<RunStatus, number>> = {
  ok: 0,
  partial: 1,
  failed: 1,
  interrupted: 130,
};

interface Output {
  write(chunk: string): boolean;
  isTTY?: boolean;
}

interface Phase {
  name: string;
  unit: ProgressUnit;
  total: number | null;
  done: number;
  startedAt: number;
  lastEmitAt: number;
  lastEmitDone: number;
  bar: cliProgress.SingleBar | null;
}

const PLAIN_STEP = { fraction: 0.1, ms: 10_000 };
const JSON_STEP = { fraction: 0.01, ms: 1_000 };

export function progressModeOf(json: boolean, stream: Output = process.stderr): ProgressMode {
  if (json) return 'json';
  return stream.isTTY ? 'tty' : 'plain';
}

function amount(value: number, unit: ProgressUnit): string {
  if (unit === 'rows') return value.toLocaleString('en-US');
  if (value < 1024) return `${value} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value / 1024;
  let i = 0;
  for (; scaled >= 1024 && i < units.length - 1; i += 1) scaled /= 1024;
  return `${scaled.toFixed(1)} ${units[i]}`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ProgressReporter {
  #phase: Phase | null = null;
  readonly #now: () => number;

  constructor(
    readonly command: string,
    readonly mode: ProgressMode,
    private readonly out: Output = process.stderr,
    now: () => number = Date.now,
  ) {
    this.#now = now;
  }

  /** A message for people (a JSON `log` event under --json). */
  log(message: string): void {
    if (this.mode === 'json') this.#json({ type: 'log', message });
    else if (this.#phase?.bar) {
      this.#phase.bar.stop();
      this.out.write(`${message}\n`);
      this.#phase.bar = this.#newBar(this.#phase);
    } else this.out.write(`${message}\n`);
  }

  /** Starts counting `name` (ends the phase before); `total` null when unknown (stdin). */
  start(name: string, total: number | null, unit: ProgressUnit = 'rows'): void {
    this.end();
    const now = this.#now();
    const phase: Phase = {
      name,
      unit,
      total,
      done: 0,
      startedAt: now,
      lastEmitAt: now,
      lastEmitDone: 0,
      bar: null,
    };
    this.#phase = phase;
    if (this.mode === 'tty') phase.bar = this.#newBar(phase);
    else this.#emit(phase);
  }

  /** Sets how much of the phase is done (absolute, not a delta). */
  update(done: number, total?: number | null): void {
    const phase = this.#phase;
    if (!phase) return;
    phase.done = done;
    if (total !== undefined) phase.total = total;
    if (phase.total !== null && phase.done > phase.total) phase.total = phase.done; // estimates
    if (phase.bar) {
      if (phase.total !== null) phase.bar.setTotal(phase.total);
      phase.bar.update(done, this.#payload(phase));
      return;
    }
    const step = this.mode === 'json' ? JSON_STEP : PLAIN_STEP;
    const now = this.#now();
    const byAmount =
      phase.total !== null &&
      phase.total > 0 &&
      (phase.done - phase.lastEmitDone) / phase.total >= step.fraction;
    if (byAmount || now - phase.lastEmitAt >= step.ms) this.#emit(phase);
  }

  /** Ends the current phase with a last line (plain, json) or a full bar (tty). */
  end(): void {
    const phase = this.#phase;
    if (!phase) return;
    this.#phase = null;
    if (phase.bar) {
      phase.bar.update(phase.done, this.#payload(phase));
      phase.bar.stop();
    } else if (phase.lastEmitDone !== phase.done || phase.done === 0) this.#emit(phase);
  }

  /**
   * The last word: `lines` for people, `fields` for --json (`type`, `command`, `status` and
   * `exitCode` are added). Returns the exit code.
   */
  summary(status: RunStatus, lines: string[], fields: Record<string, unknown> = {}): number {
    this.end();
    const exitCode = EXIT_CODES[status];
    if (this.mode === 'json')
      this.#json({ type: 'summary', status, exitCode, ...fields, message: lines.join('\n') });
    else for (const line of lines) this.out.write(`${line}\n`);
    return exitCode;
  }

  #rate(phase: Phase): number {
    const seconds = (this.#now() - phase.startedAt) / 1000;
    return seconds > 0 ? phase.done / seconds : 0;
  }

  #payload(phase: Phase): Record<string, string> {
    const rate = this.#rate(phase);
    return {
      phase: phase.name,
      done: amount(phase.done, phase.unit),
      of: phase.total === null ? '' : ` of ${amount(phase.total, phase.unit)}`,
      rate: `${amount(Math.round(rate), phase.unit)}${phase.unit === 'rows' ? ' rows' : ''}/s`,
    };
  }

  #newBar(phase: Phase): cliProgress.SingleBar {
    const known = phase.total !== null;
    const bar = new cliProgress.SingleBar(
      {
        stream: this.out as NodeJS.WritableStream,
        format: known
          ? '{phase} [{bar}] {percentage}% | {done}{of} | {rate} | {eta_formatted} left'
          : '{phase} | {done} | {rate}',
        hideCursor: true,
        etaBuffer: 50,
        etaAsynchronousUpdate: true,
        fps: 10,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(phase.total ?? 0, phase.done, this.#payload(phase));
    return bar;
  }

  #emit(phase: Phase): void {
    phase.lastEmitAt = this.#now();
    phase.lastEmitDone = phase.done;
    const rate = this.#rate(phase);
    const left = phase.total !== null && rate > 0 ? (phase.total - phase.done) / rate : null;
    if (this.mode === 'json') {
      this.#json({
        type: 'progress',
        phase: phase.name,
        unit: phase.unit,
        done: phase.done,
        total: phase.total,
        ratePerSecond: Math.round(rate * 10) / 10,
        secondsLeft: left === null ? null : Math.round(left * 10) / 10,
        elapsedSeconds: Math.round((this.#now() - phase.startedAt) / 100) / 10,
      });
      return;
    }
    const percent =
      phase.total && phase.total > 0 ? ` (${Math.floor((phase.done / phase.total) * 100)}%)` : '';
    const of = phase.total === null ? '' : ` of ${amount(phase.total, phase.unit)}`;
    const unit = phase.unit === 'rows' ? ' rows' : '';
    this.out.write(
      `${this.command}: ${phase.name} ${amount(phase.done, phase.unit)}${of}${unit}${percent}, ${amount(Math.round(rate), phase.unit)}${unit}/s${left === null ? '' : `, about ${duration(left)} left`}\n`,
    );
  }

  #json(event: Record<string, unknown>): void {
    this.out.write(`${JSON.stringify({ type: event.type, command: this.command, ...event })}\n`);
  }
}
