// Training console output: a progress bar per epoch on a terminal, plain lines in a log.

import cliProgress from 'cli-progress';

/** Receives the number of examples done in one pass over a data set, such as a training epoch. */
export interface ProgressReporter {
  /** Starts a pass named `label`, e.g. `epoch 3/20`, over `total` examples of which `done` are done. */
  start(label: string, total: number, done: number): void;
  update(done: number): void;
  stop(): void;
}

/**
 * Chooses the display for `stream`: a cli-progress bar with images per second and time left
 * on a TTY, otherwise one plain line at every 10% so that a log file stays readable.
 */
export function createProgressReporter(stream: NodeJS.WriteStream): ProgressReporter {
  return stream.isTTY ? new BarReporter(stream) : new LineReporter(stream);
}

/** Formats seconds as `45s`, `2m14s` or `1h02m`. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total}s`;
  if (total < 3600) return `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(total / 3600)}h${String(Math.floor((total % 3600) / 60)).padStart(2, '0')}m`;
}

function timeLeft(remaining: number, rate: number): string {
  return rate > 0 ? formatDuration(remaining / rate) : '?';
}

/** Measures images per second from the examples done since this session started the epoch. */
class RateMeter {
  private startTime = 0;
  private startDone = 0;

  reset(done: number): void {
    this.startTime = performance.now();
    this.startDone = done;
  }

  rate(done: number): number {
    const seconds = (performance.now() - this.startTime) / 1000;
    return seconds > 0 ? (done - this.startDone) / seconds : 0;
  }
}

class BarReporter implements ProgressReporter {
  private bar: cliProgress.SingleBar;
  private meter = new RateMeter();
  private total = 0;

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{label} |{bar}| {percentage}% {value}/{total} images | {rate} img/s | {left} left',
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(label: string, total: number, done: number): void {
    this.meter.reset(done);
    this.total = total;
    this.bar.start(total, done, { label, rate: '-', left: '?' });
  }

  update(done: number): void {
    const rate = this.meter.rate(done);
    this.bar.update(done, { rate: rate.toFixed(0), left: timeLeft(this.total - done, rate) });
  }

  stop(): void {
    this.bar.stop();
  }
}

class LineReporter implements ProgressReporter {
  private meter = new RateMeter();
  private label = '';
  private total = 0;
  private nextTenth = 1;

  constructor(private stream: NodeJS.WriteStream) {}

  start(label: string, total: number, done: number): void {
    this.meter.reset(done);
    this.label = label;
    this.total = total;
    this.nextTenth = Math.floor((done / Math.max(total, 1)) * 10) + 1;
  }

  update(done: number): void {
    if (this.total === 0 || done < (this.nextTenth * this.total) / 10 || this.nextTenth > 10) return;
    this.nextTenth = Math.floor((done / this.total) * 10) + 1;
    const rate = this.meter.rate(done);
    const left = timeLeft(this.total - done, rate);
    const percent = Math.floor((done / this.total) * 100);
    this.stream.write(`${this.label}  ${percent}%  ${done}/${this.total} images  ${rate.toFixed(0)} img/s  ${left} left\n`);
  }

  stop(): void {}
}
