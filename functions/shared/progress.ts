import type { Logger } from './logger';
import { formatBytes, formatDuration } from './units';

/** Where a long run is: the phase, what it works on, and the bytes or rows done in this phase. */
export interface ProgressState {
  readonly phase: string;
  /** A table, an index: what this phase works on right now. */
  readonly item?: string;
  readonly bytes?: number;
  readonly rows?: number;
}

export interface Progress {
  /** Records where the run is; cheap enough for every chunk of a stream. Shown at the next tick. */
  update(state: ProgressState): void;
  /** Stops the ticks and takes the terminal line away. */
  stop(): void;
}

/** Monotonic milliseconds and a repeating timer: injected so tests drive time by hand. */
export interface ProgressClock {
  now(): number;
  every(ms: number, tick: () => void): () => void;
}

export const realClock: ProgressClock = {
  now: () => performance.now(),
  every: (ms, tick) => {
    const timer = setInterval(tick, ms);
    timer.unref(); // progress never keeps a finished process alive
    return () => clearInterval(timer);
  },
};

/** One redrawn line on a terminal; periodic structured log lines elsewhere (Lambda, pipes, files). */
export const TERMINAL_INTERVAL_MS = 2_000;
export const LOG_INTERVAL_MS = 15_000;

export const noProgress: Progress = { update() {}, stop() {} };

interface Reading {
  readonly state: ProgressState;
  readonly at: number;
}

/** What one tick says: the state plus rates over the last interval and time in the phase. */
export interface ProgressFigures {
  readonly phase: string;
  readonly item?: string;
  readonly bytes?: number;
  readonly MBps?: number;
  readonly rows?: number;
  readonly rowsPerSecond?: number;
  readonly elapsedMs: number;
}

/** Keeps the latest state and turns two readings into rates; the same for every output. */
function progressMeter(clock: ProgressClock) {
  let current: ProgressState | undefined;
  let phaseStarted = clock.now();
  let last: Reading | undefined;
  return {
    update(state: ProgressState): boolean {
      const changed = !current || current.phase !== state.phase || current.item !== state.item;
      if (changed) {
        phaseStarted = clock.now();
        last = { state, at: phaseStarted };
      }
      current = state;
      return changed;
    },
    /** The figures now, measured against the previous read (so rates are "lately", not "on average"). */
    read(): ProgressFigures | undefined {
      if (!current) return undefined;
      const at = clock.now();
      const seconds = last && at > last.at ? (at - last.at) / 1000 : 0;
      const rate = (now?: number, before?: number) =>
        now === undefined || seconds === 0 ? undefined : Math.max(0, now - (before ?? 0)) / seconds;
      const bytesRate = rate(current.bytes, last?.state.bytes);
      const rowsRate = rate(current.rows, last?.state.rows);
      const figures: ProgressFigures = {
        phase: current.phase,
        ...(current.item !== undefined ? { item: current.item } : {}),
        ...(current.bytes !== undefined ? { bytes: current.bytes } : {}),
        ...(bytesRate !== undefined ? { MBps: Math.round((bytesRate / 1024 / 1024) * 10) / 10 } : {}),
        ...(current.rows !== undefined ? { rows: current.rows } : {}),
        ...(rowsRate !== undefined ? { rowsPerSecond: Math.round(rowsRate) } : {}),
        elapsedMs: Math.round(at - phaseStarted),
      };
      last = { state: current, at };
      return figures;
    },
  };
}

/** `backup prod: dump 412 MB, 38.2 MB/s (12.0 s)` */
export function describeProgress(job: string, target: string, figures: ProgressFigures): string {
  const parts: string[] = [];
  if (figures.bytes !== undefined)
    parts.push(
      figures.MBps !== undefined
        ? `${formatBytes(figures.bytes)}, ${figures.MBps} MB/s`
        : formatBytes(figures.bytes),
    );
  if (figures.rows !== undefined)
    parts.push(
      `${figures.rows.toLocaleString('en-US')} rows${figures.rowsPerSecond !== undefined ? `, ${figures.rowsPerSecond.toLocaleString('en-US')} rows/s` : ''}`,
    );
  const what = [figures.phase, figures.item].filter(Boolean).join(' ');
  return `${job} ${target}: ${what}${parts.length > 0 ? ` ${parts.join('; ')}` : ''} (${formatDuration(figures.elapsedMs)})`;
}

export interface TerminalProgress extends Progress {
  /** Takes the line away before something else writes to the terminal; the next tick redraws it. */
  clearLine(): void;
}

/** A single line on a terminal, redrawn in place every couple of seconds and when the phase changes. */
export function terminalProgress(options: {
  readonly job: string;
  readonly target: string;
  readonly write: (text: string) => void;
  readonly intervalMs?: number;
  readonly clock?: ProgressClock;
}): TerminalProgress {
  const clock = options.clock ?? realClock;
  const meter = progressMeter(clock);
  let drawn = false;
  const draw = () => {
    const figures = meter.read();
    if (!figures) return;
    options.write(`\r\x1b[2K${describeProgress(options.job, options.target, figures)}`);
    drawn = true;
  };
  const clearLine = () => {
    if (drawn) options.write('\r\x1b[2K');
    drawn = false;
  };
  const cancel = clock.every(options.intervalMs ?? TERMINAL_INTERVAL_MS, draw);
  return {
    update(state) {
      if (meter.update(state)) draw();
    },
    clearLine,
    stop() {
      cancel();
      clearLine();
    },
  };
}

/** Structured log lines (Powertools JSON on Lambda) at a steady pace, never one per update. */
export function logProgress(options: {
  readonly job: string;
  readonly target: string;
  readonly logger: Logger;
  readonly intervalMs?: number;
  readonly clock?: ProgressClock;
}): Progress {
  const clock = options.clock ?? realClock;
  const meter = progressMeter(clock);
  const cancel = clock.every(options.intervalMs ?? LOG_INTERVAL_MS, () => {
    const figures = meter.read();
    if (!figures) return;
    options.logger.info(describeProgress(options.job, options.target, figures), {
      progress: figures,
    });
  });
  return {
    update(state) {
      meter.update(state);
    },
    stop: cancel,
  };
}
