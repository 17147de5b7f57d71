import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evalCommand } from '../../bin/commands/eval';
import { runCommand } from '../../bin/commands/run';
import { readCheckpoint } from '../../runtime/train';
import { captureOutput, fakeDependencies, temporaryDirectory, tinyNetwork, writeGeneratedDir } from './fixtures';

const network = tinyNetwork();
const generatedDir = writeGeneratedDir(network);

const RUN_FILES = [
  'config.json',
  'metrics.jsonl',
  'best.ckpt',
  'last.ckpt',
  'confusion.svg',
  'confusion.json',
  'curves.svg',
  'summary.json',
];

function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Checks that an SVG file opens and closes its root element and balances its groups of tags. */
function assertSvg(path: string): void {
  const text = readFileSync(path, 'utf8');
  assert.match(text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(text.trimEnd().endsWith('</svg>'), `${path} ends with </svg>`);
  const opened = (text.match(/<(?!\/)[a-z]+[^>]*[^/]>/g) ?? []).length;
  const closed = (text.match(/<\/[a-z]+>/g) ?? []).length;
  assert.is(opened, closed, `${path}: open and close tags`);
}

test('short run writes the complete run directory', async () => {
  const runDir = join(temporaryDirectory(), 'run');
  const output = captureOutput();
  const code = await runCommand([generatedDir, '--epochs', '2', '--out', runDir, '--seed', '5'], fakeDependencies(network), output);
  assert.is(code, 0, output.errors.join('\n'));

  for (const file of RUN_FILES) assert.ok(existsSync(join(runDir, file)), `${file} exists`);

  const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  assert.is(metrics.length, 2);
  assert.equal(metrics.map((entry) => entry.epoch), [1, 2]);
  for (const entry of metrics) {
    for (const key of ['trainLoss', 'trainAccuracy', 'testAccuracy', 'bestAccuracy', 'bestEpoch', 'seconds', 'imagesPerSecond']) {
      assert.type(entry[key], 'number', `metrics ${key}`);
    }
  }

  const summary = readJson(join(runDir, 'summary.json'));
  assert.is(summary.epochsCompleted, 2);
  assert.is(summary.bestAccuracy, Math.max(...metrics.map((entry) => entry.testAccuracy)));
  assert.is(summary.bestEpoch, metrics.find((entry) => entry.testAccuracy === summary.bestAccuracy).epoch);
  assert.is(summary.finalAccuracy, metrics[1].testAccuracy);
  assert.type(summary.totalSeconds, 'number');
  assert.type(summary.imagesPerSecond, 'number');
  assert.match(summary.commandLine, /^snnc run .* --epochs 2 /);

  const config = readJson(join(runDir, 'config.json'));
  assert.equal(config.settings, { epochs: 2, batchSize: 4, lr: 0.01, seed: 5, limitTrain: null, limitTest: null });
  assert.is(config.flags.epochs, 2);
  assert.is(config.network.specHash, network.specHash);
  assert.is(config.backend, 'reference');
  assert.is(config.specHash, network.specHash);
  assert.match(config.data.description, /synthetic patterns/);

  const confusion = readJson(join(runDir, 'confusion.json'));
  assert.is(confusion.epoch, summary.bestEpoch);
  assert.is(confusion.matrix.flat().reduce((a: number, b: number) => a + b, 0), 12);

  assertSvg(join(runDir, 'confusion.svg'));
  assertSvg(join(runDir, 'curves.svg'));
  assert.ok(readFileSync(join(runDir, 'confusion.svg'), 'utf8').includes('>2</text>'), 'class labels appear');

  assert.match(output.lines[0], /^data: synthetic patterns/);
  assert.is(output.lines[1], 'backend: reference');
  assert.match(output.lines[2], /^epoch 1\/2  train loss \d+\.\d{3}  train acc \d+\.\d{2}%  test acc \d+\.\d{2}%  best /);
  assert.match(output.lines[3], /^epoch 2\/2 /);
});

test('unwritable run directory is rejected before training', async () => {
  const blocker = join(temporaryDirectory(), 'a-file');
  writeFileSync(blocker, 'not a directory');
  const runDir = join(blocker, 'run');
  const dependencies = fakeDependencies(network);
  const output = captureOutput();

  const code = await runCommand([generatedDir, '--out', runDir], dependencies, output);
  assert.is(code, 1);
  assert.is(output.errors.length, 1);
  assert.ok(output.errors[0].includes(runDir), output.errors[0]);
  assert.match(output.errors[0], /--out DIR/);
  assert.is(dependencies.enginesOpened, 0);
  assert.equal(output.lines, []);
});

test('existing run directory needs --resume', async () => {
  const runDir = join(temporaryDirectory(), 'run');
  assert.is(await runCommand([generatedDir, '--epochs', '1', '--out', runDir], fakeDependencies(network), captureOutput()), 0);
  const before = readFileSync(join(runDir, 'last.ckpt'));

  const output = captureOutput();
  const code = await runCommand([generatedDir, '--out', runDir], fakeDependencies(network), output);
  assert.is(code, 1);
  assert.is(
    output.errors[0],
    `snnc run: ${runDir} already contains a run: continue it with --resume ${join(runDir, 'last.ckpt')}, or choose another --out`,
  );
  assert.ok(readFileSync(join(runDir, 'last.ckpt')).equals(before), 'the earlier checkpoint is untouched');
});

const badFlags: Array<[string[], RegExp]> = [
  [['--epochs', '0'], /invalid --epochs value '0': expected an integer of at least 1/],
  [['--batch-size', '2.5'], /invalid --batch-size value '2.5'/],
  [['--lr', 'fast'], /invalid --lr value 'fast': expected a positive number/],
  [['--lr', '-1'], /the value of --lr starts with '-': write it as --lr=VALUE/],
  [['--lr=-1'], /invalid --lr value '-1'/],
  [['--seed=-3'], /invalid --seed value '-3': expected an integer from 0 to 4294967295/],
  [['--backend', 'cuda'], /invalid --backend value 'cuda': expected one of auto, cpu, webasm/],
  [['--limit-test', 'all'], /invalid --limit-test value 'all'/],
  [['--bogus'], /unknown option --bogus; run with --help/],
  [['--epochs'], /--epochs.*argument missing.*--help/],
];

for (const [flags, message] of badFlags) {
  test(`bad flag ${flags.join(' ')} exits 2`, async () => {
    const output = captureOutput();
    const code = await runCommand([generatedDir, ...flags], fakeDependencies(network), output);
    assert.is(code, 2);
    assert.is(output.errors.length, 1);
    assert.match(output.errors[0], message);
    assert.not.match(output.errors[0], /\n/);
  });
}

test('help documents every flag', async () => {
  const output = captureOutput();
  assert.is(await runCommand(['--help'], fakeDependencies(network), output), 0);
  const help = output.lines.join('\n');
  for (const flag of ['--epochs', '--batch-size', '--lr', '--seed', '--data', '--backend', '--resume', '--out', '--limit-train', '--limit-test']) {
    assert.ok(help.includes(`  ${flag} `), `help lists ${flag}`);
  }
});

test('missing generated directory asks to compile first', async () => {
  const output = captureOutput();
  const missing = join(temporaryDirectory(), 'no-such-network');
  const code = await runCommand([missing], fakeDependencies(network), output);
  assert.is(code, 1);
  assert.is(output.errors[0], `snnc run: generated directory ${missing} not found: run \`snnc compile SPEC\` first`);
});

test('spec file in place of generated directory', async () => {
  const specFile = join(temporaryDirectory(), 'mnist.yaml');
  writeFileSync(specFile, 'Network: {}\n');
  const output = captureOutput();
  assert.is(await runCommand([specFile], fakeDependencies(network), output), 1);
  assert.is(output.errors[0], `snnc run: ${specFile} is a spec file: run \`snnc compile ${specFile}\` first, then pass generated/mnist`);
});

test('generated directory without manifest', async () => {
  const emptyDir = temporaryDirectory();
  const output = captureOutput();
  assert.is(await runCommand([emptyDir], fakeDependencies(network), output), 1);
  assert.is(output.errors[0], `snnc run: ${emptyDir} has no manifest.json: run \`snnc compile SPEC\` first`);
});

test('missing data folder is named', async () => {
  const output = captureOutput();
  const missing = join(temporaryDirectory(), 'no-data');
  const dependencies = fakeDependencies(network);
  const runDir = join(temporaryDirectory(), 'run');
  const code = await runCommand([generatedDir, '--data', missing, '--out', runDir], dependencies, output);
  assert.is(code, 1);
  assert.match(output.errors[0], new RegExp(`data folder ${missing} not found \\(from --data\\)`));
  assert.is(dependencies.enginesOpened, 0);
  assert.not.ok(existsSync(runDir), 'no run directory is left behind');
});

test('misspelt flag suggests the nearest one', async () => {
  const output = captureOutput();
  assert.is(await runCommand([generatedDir, '--epoch', '1'], fakeDependencies(network), output), 2);
  assert.is(output.errors[0], 'snnc run: unknown option --epoch (did you mean --epochs?); run with --help for the options');
});

test('interrupted run prints how to resume and exits 130', async () => {
  const runDir = join(temporaryDirectory(), 'run');
  const controller = new AbortController();
  const output = captureOutput();
  const dependencies = fakeDependencies(network);
  const openEngine = dependencies.openEngine;
  dependencies.openEngine = async (dir, options) => {
    const engine = await openEngine(dir, options);
    const trainStep = engine.trainStep.bind(engine);
    engine.trainStep = async (batch, lr, passOptions) => {
      const result = await trainStep(batch, lr, passOptions);
      controller.abort();
      return result;
    };
    return engine;
  };

  const code = await runCommand([generatedDir, '--out', runDir], dependencies, output, controller.signal);
  assert.is(code, 130);
  const checkpointPath = join(runDir, 'last.ckpt');
  assert.ok(output.lines.includes(`resume with: snnc run ${generatedDir} --resume ${checkpointPath}`), output.lines.join('\n'));
  assert.is(readCheckpoint(checkpointPath).state.batchesDone, 1);

  const resumed = captureOutput();
  assert.is(await runCommand([generatedDir, '--resume', checkpointPath], fakeDependencies(network), resumed), 0);
  assert.match(resumed.lines.join('\n'), /resuming from .* in epoch 1 at batch 1/);
  assert.is(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
});

test('resume rejects a checkpoint of another spec', async () => {
  const runDir = join(temporaryDirectory(), 'run');
  assert.is(await runCommand([generatedDir, '--epochs', '1', '--out', runDir], fakeDependencies(network), captureOutput()), 0);

  const other = tinyNetwork('other', 'other-hash-0123456789');
  const otherDir = writeGeneratedDir(other);
  const output = captureOutput();
  const checkpointPath = join(runDir, 'last.ckpt');
  const code = await runCommand([otherDir, '--resume', checkpointPath], fakeDependencies(other), output);
  assert.is(code, 1);
  assert.is(
    output.errors[0],
    `snnc run: checkpoint ${checkpointPath} was written for spec 'tiny' (hash hash-of-tiny), but ${otherDir} was ` +
      `compiled from spec 'other' (hash other-hash-0): use a checkpoint of 'other', or compile the spec the checkpoint was written for`,
  );
});

test('resume keeps the backend the run trained on', async () => {
  const runDir = join(temporaryDirectory(), 'run');
  assert.is(await runCommand([generatedDir, '--epochs', '1', '--out', runDir], fakeDependencies(network), captureOutput()), 0);
  assert.is(readJson(join(runDir, 'config.json')).backend, 'reference');

  const requested: string[] = [];
  const dependencies = fakeDependencies(network);
  const openEngine = dependencies.openEngine;
  dependencies.openEngine = async (dir, options) => {
    requested.push(options.backend);
    return openEngine(dir, options);
  };
  const output = captureOutput();
  assert.is(await runCommand([generatedDir, '--resume', join(runDir, 'last.ckpt'), '--epochs', '2'], dependencies, output), 0, output.errors.join('\n'));
  assert.equal(requested, ['reference']);
  assert.ok(
    output.lines.includes(`resuming on reference, the backend recorded in ${join(runDir, 'config.json')}; pass --backend to change it`),
    output.lines.join('\n'),
  );
});

test('resuming a finished run says how to extend it', async () => {
  const runDir = join(temporaryDirectory(), 'run');
  assert.is(await runCommand([generatedDir, '--epochs', '1', '--out', runDir], fakeDependencies(network), captureOutput()), 0);
  const output = captureOutput();
  assert.is(await runCommand([generatedDir, '--resume', join(runDir, 'last.ckpt')], fakeDependencies(network), output), 0);
  assert.ok(
    output.lines.includes('the run has already completed 1/1 epochs; pass --epochs N with N above 1 to train further'),
    output.lines.join('\n'),
  );
});

test('resume rejects a changed setting', async () => {
  const runDir = join(temporaryDirectory(), 'run');
  assert.is(await runCommand([generatedDir, '--epochs', '1', '--out', runDir], fakeDependencies(network), captureOutput()), 0);
  const output = captureOutput();
  const code = await runCommand([generatedDir, '--resume', join(runDir, 'last.ckpt'), '--lr', '0.5'], fakeDependencies(network), output);
  assert.is(code, 2);
  assert.match(output.errors[0], /--lr 0\.5 differs from the checkpoint's 0\.01: a resumed run keeps the checkpoint's settings/);
});

test('truncated resume checkpoint gives one line naming the file', async () => {
  const path = join(temporaryDirectory(), 'last.ckpt');
  writeFileSync(path, 'SNNCKPT1\u0010\u0000');
  const output = captureOutput();
  const code = await runCommand([generatedDir, '--resume', path], fakeDependencies(network), output);
  assert.is(code, 1);
  assert.is(output.errors.length, 1);
  assert.match(output.errors[0], new RegExp(`^snnc run: checkpoint ${path} is corrupt or truncated`));
});

test('eval reports accuracy and a confusion matrix', async () => {
  const runDir = join(temporaryDirectory(), 'run');
  assert.is(await runCommand([generatedDir, '--epochs', '1', '--out', runDir], fakeDependencies(network), captureOutput()), 0);
  const trained = readJson(join(runDir, 'metrics.jsonl'));

  const output = captureOutput();
  const code = await evalCommand([generatedDir, '--checkpoint', join(runDir, 'best.ckpt')], fakeDependencies(network), output);
  assert.is(code, 0, output.errors.join('\n'));
  const text = output.lines.join('\n');
  assert.match(text, new RegExp(`test accuracy ${(trained.testAccuracy * 100).toFixed(2)}% \\(\\d+/12\\)`));

  const tableRows = text.split('\n').filter((line) => /^[0-2]\s+\d+\s+\d+\s+\d+$/.test(line));
  assert.is(tableRows.length, 3);
  const total = tableRows.flatMap((line) => line.split(/\s+/).slice(1).map(Number)).reduce((a, b) => a + b, 0);
  assert.is(total, 12);
});

test('eval requires a checkpoint', async () => {
  const output = captureOutput();
  assert.is(await evalCommand([generatedDir], fakeDependencies(network), output), 2);
  assert.match(output.errors[0], /missing --checkpoint CKPT/);
});

test.run();
