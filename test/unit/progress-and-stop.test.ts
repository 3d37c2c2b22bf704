import { describe, expect, it } from 'vitest';
import type { Logger } from '../../functions/shared/logger';
import { logProgress, type ProgressClock, terminalProgress } from '../../functions/shared/progress';
import {
  InterruptedError,
  type SignalSource,
  type StopSignalName,
  stopOnSignals,
} from '../../functions/shared/stop-signals';

/** Time moves only when the test says; timers fire as it passes their due time. */
function fakeClock(): ProgressClock & { advance(ms: number): void; timers: number } {
  let now = 0;
  const timers = new Map<number, { every: number; due: number; tick: () => void }>();
  let nextId = 0;
  return {
    now: () => now,
    every(ms, tick) {
      const id = nextId++;
      timers.set(id, { every: ms, due: now + ms, tick });
      return () => timers.delete(id);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = [...timers.values()].sort((a, b) => a.due - b.due)[0];
        if (!next || next.due > end) break;
        now = next.due;
        next.due += next.every;
        next.tick();
      }
      now = end;
    },
    get timers() {
      return timers.size;
    },
  };
}

const MB = 1024 * 1024;

function recordingLogger(): Logger & { lines: Array<{ message: string; extra?: Record<string, unknown> }> } {
  const lines: Array<{ message: string; extra?: Record<string, unknown> }> = [];
  const record = (message: string, extra?: Record<string, unknown>) => lines.push({ message, extra });
  return { lines, debug: record, info: record, warn: record, error: record };
}

describe('terminal progress', () => {
  it('redraws one line in place each interval with bytes and the rate over the last interval', () => {
    const clock = fakeClock();
    let screen = '';
    const progress = terminalProgress({
      job: 'backup',
      target: 'prod',
      write: (text) => {
        screen += text;
      },
      intervalMs: 2_000,
      clock,
    });
    progress.update({ phase: 'dump', bytes: 0 });
    expect(screen).toBe('\r\x1b[2Kbackup prod: dump 0 B (0 ms)'); // a new phase shows at once
    screen = '';
    // Thousands of updates (one per chunk) between ticks draw nothing by themselves.
    for (let i = 1; i <= 1000; i++) progress.update({ phase: 'dump', bytes: i * 20 * 1024 });
    expect(screen).toBe('');
    clock.advance(2_000);
    expect(screen).toBe('\r\x1b[2Kbackup prod: dump 20 MB, 9.8 MB/s (2.0 s)');
    screen = '';
    progress.update({ phase: 'dump', bytes: 20 * 1000 * 1024 + 4 * MB });
    clock.advance(2_000);
    expect(screen).toBe('\r\x1b[2Kbackup prod: dump 24 MB, 2 MB/s (4.0 s)');
    expect(screen).not.toContain('\n');
    screen = '';
    progress.stop();
    expect(screen).toBe('\r\x1b[2K'); // the line goes away; the result prints on a clean line
    expect(clock.timers).toBe(0);
  });

  it('shows rows and their rate per rule, and the item being worked on', () => {
    const clock = fakeClock();
    const lines: string[] = [];
    const progress = terminalProgress({
      job: 'retention',
      target: 'prod',
      write: (t) => lines.push(t),
      clock,
    });
    progress.update({ phase: 'deleting', item: 'public.events', rows: 0 });
    progress.update({ phase: 'deleting', item: 'public.events', rows: 50_000 });
    clock.advance(2_000);
    expect(lines.at(-1)).toBe(
      '\r\x1b[2Kretention prod: deleting public.events 50,000 rows, 25,000 rows/s (2.0 s)',
    );
    progress.update({ phase: 'deleting', item: 'public.audit_logs', rows: 0 });
    expect(lines.at(-1)).toBe('\r\x1b[2Kretention prod: deleting public.audit_logs 0 rows (0 ms)');
    progress.stop();
  });

  it('clears its line before a log line is written, and draws nothing before the first update', () => {
    const clock = fakeClock();
    const writes: string[] = [];
    const progress = terminalProgress({
      job: 'reindex',
      target: 'prod',
      write: (t) => writes.push(t),
      clock,
    });
    clock.advance(10_000);
    progress.clearLine();
    expect(writes).toEqual([]);
    progress.update({ phase: 'rebuilding', item: 'public.orders_pkey' });
    progress.clearLine();
    progress.clearLine();
    expect(writes).toEqual(['\r\x1b[2Kreindex prod: rebuilding public.orders_pkey (0 ms)', '\r\x1b[2K']);
    clock.advance(2_000);
    expect(writes.at(-1)).toBe('\r\x1b[2Kreindex prod: rebuilding public.orders_pkey (2.0 s)');
    progress.stop();
  });
});

describe('log progress', () => {
  it('writes one structured line per interval, whatever the number of updates', () => {
    const clock = fakeClock();
    const logger = recordingLogger();
    const progress = logProgress({ job: 'backup', target: 'prod', logger, intervalMs: 15_000, clock });
    clock.advance(30_000);
    expect(logger.lines).toEqual([]); // nothing to say yet
    progress.update({ phase: 'dump', bytes: 0 });
    for (let i = 1; i <= 150; i++) progress.update({ phase: 'dump', bytes: i * MB });
    expect(logger.lines).toEqual([]);
    clock.advance(15_000);
    progress.update({ phase: 'finishing', bytes: 150 * MB });
    clock.advance(15_000);
    expect(logger.lines).toEqual([
      {
        message: 'backup prod: dump 150 MB, 10 MB/s (15.0 s)',
        extra: { progress: { phase: 'dump', bytes: 150 * MB, MBps: 10, elapsedMs: 15_000 } },
      },
      {
        message: 'backup prod: finishing 150 MB, 0 MB/s (15.0 s)',
        extra: { progress: { phase: 'finishing', bytes: 150 * MB, MBps: 0, elapsedMs: 15_000 } },
      },
    ]);
    progress.stop();
    clock.advance(60_000);
    expect(logger.lines).toHaveLength(2);
  });
});

describe('stopOnSignals', () => {
  function fakeSignals() {
    const listeners = new Set<(signal: StopSignalName) => void>();
    const source: SignalSource = (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    };
    return {
      source,
      send: (signal: StopSignalName) => {
        for (const listener of listeners) listener(signal);
      },
      listeners: () => listeners.size,
    };
  }

  it('aborts once, with the first signal as an InterruptedError, and unsubscribes on dispose', () => {
    const signals = fakeSignals();
    const seen: string[] = [];
    const stop = stopOnSignals(signals.source, (signal) => seen.push(signal));
    expect(stop.signal.aborted).toBe(false);
    expect(stop.received()).toBeUndefined();
    signals.send('SIGTERM');
    signals.send('SIGINT');
    expect(seen).toEqual(['SIGTERM']);
    expect(stop.received()).toBe('SIGTERM');
    expect(stop.signal.reason).toBeInstanceOf(InterruptedError);
    expect((stop.signal.reason as Error).message).toBe('stopped by SIGTERM before it finished');
    stop.dispose();
    expect(signals.listeners()).toBe(0);
  });
});
