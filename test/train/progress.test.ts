import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProgressReporter, formatDuration } from '../../runtime/train';

function logStream(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (text: string) => lines.push(...text.trimEnd().split('\n')) };
  return { stream: stream as unknown as NodeJS.WriteStream, lines };
}

test('log progress prints one line per tenth', () => {
  const { stream, lines } = logStream();
  const progress = createProgressReporter(stream);
  progress.start('epoch 1/3', 100, 0);
  for (let done = 5; done <= 100; done += 5) progress.update(done);
  progress.stop();
  assert.is(lines.length, 10);
  assert.match(lines[0], /^epoch 1\/3  10%  10\/100 images  \d+ img\/s  \S+ left$/);
  assert.match(lines[9], /^epoch 1\/3  100%  100\/100 images /);
});

test('log progress skips tenths a large batch jumps over', () => {
  const { stream, lines } = logStream();
  const progress = createProgressReporter(stream);
  progress.start('epoch 1/1', 90, 0);
  for (const done of [40, 80, 90]) progress.update(done);
  assert.equal(
    lines.map((line) => line.split('  ')[1]),
    ['44%', '88%', '100%'],
  );
});

test('log progress resumed mid-epoch starts after the done part', () => {
  const { stream, lines } = logStream();
  const progress = createProgressReporter(stream);
  progress.start('epoch 2/2', 100, 75);
  progress.update(78);
  progress.update(80);
  progress.update(100);
  assert.equal(
    lines.map((line) => line.split('  ')[1]),
    ['80%', '100%'],
  );
});

test('durations read as seconds, minutes or hours', () => {
  assert.is(formatDuration(45.4), '45s');
  assert.is(formatDuration(134), '2m14s');
  assert.is(formatDuration(3600 + 2 * 60 + 30), '1h02m');
  assert.is(formatDuration(-1), '0s');
});

test.run();
