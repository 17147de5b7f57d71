import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConvLayer, Layer, LinearLayer, PoolingLayer } from '../../common/network';
import { formatDiagnostic, loadSpec, parseSpecText, SpecError } from '../../compiler/frontend/index';
import { referencePath } from '../support/reference-files';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const specsDir = path.join(repoRoot, 'specs');
const goldenDir = referencePath('golden');

function layer<T extends Layer>(layers: Layer[], name: string): T {
  const found = layers.find((l) => l.name === name);
  assert.ok(found, `no layer ${name}`);
  return found as T;
}

test('every spec in specs/ compiles', () => {
  const files = readdirSync(specsDir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 6, `found ${files.join(', ')}`);
  for (const file of files) {
    const { network } = loadSpec(path.join(specsDir, file));
    assert.is(network.name, file.replace(/\.yaml$/, ''));
    assert.is(network.nClass, 10, file);
    assert.is(network.layers[network.layers.length - 1].outShape.join(','), '10,1,1', file);
  }
});

test('mnist shapes match hand computation', () => {
  const { network } = loadSpec(path.join(specsDir, 'mnist.yaml'));
  assert.equal(network.inputShape, [1, 28, 28]);
  assert.is(network.inputEncoding, 'static');
  assert.is(network.dataset, 'MNIST');
  assert.equal(layer<ConvLayer>(network.layers, 'conv_1').outShape, [15, 24, 24]);
  assert.equal(layer<ConvLayer>(network.layers, 'conv_1').weightShape, [15, 1, 5, 5]);
  assert.equal(layer<PoolingLayer>(network.layers, 'pooling_1').outShape, [15, 12, 12]);
  assert.equal(layer<PoolingLayer>(network.layers, 'pooling_1').stride, [2, 2]);
  assert.is(layer<PoolingLayer>(network.layers, 'pooling_1').theta, 1.1);
  assert.equal(layer<ConvLayer>(network.layers, 'conv_2').outShape, [40, 8, 8]);
  assert.equal(layer<PoolingLayer>(network.layers, 'pooling_2').outShape, [40, 4, 4]);
  const fc = layer<LinearLayer>(network.layers, 'FC_1');
  assert.is(fc.nInputs, 640);
  assert.equal(fc.inShape, [40, 4, 4]);
  assert.equal(fc.weightShape, [300, 640]);
  assert.equal(network.layers.map((l) => l.name), ['conv_1', 'pooling_1', 'conv_2', 'pooling_2', 'FC_1', 'output']);
});

test('mnist settings match the reference run', () => {
  const { network } = loadSpec(path.join(specsDir, 'mnist.yaml'));
  assert.is(network.nSteps, 5);
  assert.is(network.tauM, 5);
  assert.is(network.tauS, 3);
  assert.is(network.loss, 'kernel');
  assert.is(network.batchSize, 50);
  assert.is(network.lr, 0.0005);
  assert.is(network.epochs, 100);
});

test('cifar10 shapes match hand computation', () => {
  const { network } = loadSpec(path.join(specsDir, 'cifar10.yaml'));
  assert.equal(network.inputShape, [3, 32, 32]);
  const conv1 = layer<ConvLayer>(network.layers, 'conv_1');
  assert.equal(conv1.outShape, [96, 32, 32]);
  assert.equal(conv1.padding, [1, 1]);
  assert.is(conv1.weightScale, 5);
  assert.equal(layer<ConvLayer>(network.layers, 'conv_5').outShape, [256, 8, 8]);
  assert.is(layer<LinearLayer>(network.layers, 'FC_1').nInputs, 16384);
  assert.is(network.layers.filter((l) => l.type === 'dropout').length, 7);
  assert.ok(network.layers.every((l) => l.type !== 'dropout' || l.p === 0.2));
  assert.is(network.lr, 0.0002);
});

test('nmnist uses events and count loss', () => {
  const { network } = loadSpec(path.join(specsDir, 'nmnist.yaml'));
  assert.equal(network.inputShape, [2, 34, 34]);
  assert.is(network.inputEncoding, 'events');
  assert.is(network.nSteps, 30);
  assert.is(network.loss, 'count');
  assert.is(network.desiredCount, 15);
  assert.is(network.undesiredCount, 3);
  assert.equal(layer<ConvLayer>(network.layers, 'conv_1').outShape, [12, 32, 32]);
  assert.equal(layer<PoolingLayer>(network.layers, 'pooling_2').outShape, [64, 6, 6]);
});

test('original TSSL-BP config compiles unedited', () => {
  const file = path.join(repoRoot, 'test', 'frontend', 'fixtures', 'nmnist-tsslbp-config.yaml');
  const { network, warnings } = loadSpec(file);
  assert.is(network.dataset, 'NMNIST');
  assert.is(network.dataPath, '../../datasets/nmnist_frames');
  assert.is(network.epochs, 100);
  assert.equal(network.inputShape, [2, 34, 34]);
  assert.is(layer<LinearLayer>(network.layers, 'output').nInputs, 2304);
  const ignored = warnings.map((w) => w.path);
  assert.equal(ignored, ['Layers.pooling_1.threshold', 'Layers.pooling_2.threshold']);
});

interface Golden {
  input_shape: [number, number, number];
  batch: number;
  n_steps: number;
  weights: Record<string, { shape: number[] }>;
  activations: Record<string, { shape: number[] }>;
}

const goldenSpecs = readdirSync(path.join(goldenDir, 'specs')).filter((f) => f.endsWith('.yaml'));

for (const file of goldenSpecs) {
  test(`golden spec ${file} matches its reference shapes`, () => {
    const golden = JSON.parse(readFileSync(path.join(goldenDir, file.replace(/\.yaml$/, '.json')), 'utf8')) as Golden;
    const { network } = loadSpec(path.join(goldenDir, 'specs', file), { inputShape: golden.input_shape });
    assert.equal(network.inputShape, golden.input_shape);
    assert.is(network.nSteps, golden.n_steps);

    for (const l of network.layers) {
      const activation = golden.activations[l.name];
      assert.ok(activation, `no activation for ${l.name}`);
      assert.equal(activation.shape, [golden.batch, ...l.outShape, golden.n_steps], `${l.name} output shape`);
      if (l.type === 'conv' || l.type === 'linear') {
        // The reference conv weights carry a trailing time axis of 1.
        const shape = golden.weights[l.name].shape;
        assert.equal(l.type === 'conv' ? shape.slice(0, 4) : shape, l.weightShape, `${l.name} weight shape`);
      }
    }
  });
}

test('golden specs compile without an input shape', () => {
  for (const file of goldenSpecs) {
    const { network, warnings } = loadSpec(path.join(goldenDir, 'specs', file));
    const note = warnings.find((w) => w.path === 'Network.input_shape');
    assert.ok(note, `${file}: no inferred-shape note`);
    assert.is(note.severity, 'warning');
    assert.ok(network.layers.length > 0);
  }
});

test('conv input shape inferred from n_inputs', () => {
  const { network, warnings } = loadSpec(path.join(goldenDir, 'specs', 'tiny_cnn_count.yaml'));
  assert.equal(network.inputShape, [2, 8, 8]);
  const note = warnings.find((w) => w.path === 'Network.input_shape');
  assert.is(
    note && formatDiagnostic(note),
    `${path.join(goldenDir, 'specs', 'tiny_cnn_count.yaml')}:1:1 warning: Network.input_shape: input shape inferred as 2×8×8 (the smallest square image for which output.n_inputs = 24 matches 6×2×2); set Network.input_shape to fix it`,
  );
});

test('linear input shape inferred from n_inputs', () => {
  const { network } = loadSpec(path.join(goldenDir, 'specs', 'tiny_mlp_kernel.yaml'));
  assert.equal(network.inputShape, [16, 1, 1]);
});

const mlp = `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  batch_size: 8
  input_shape: [1, 4, 4]
Layers:
  hidden:
    type: linear
    n_inputs: 16
    n_outputs: 8
    threshold: 1
  output:
    type: linear
    n_inputs: 8
    n_outputs: 3
`;

test('spec hash ignores formatting and training settings', () => {
  const base = parseSpecText('a.yaml', mlp).network.specHash;
  assert.match(base, /^[0-9a-f]{64}$/);
  const reordered = mlp.replace('  n_steps: 5\n  loss: kernel\n', '  loss: kernel   # comment\n  n_steps: 5\n');
  assert.is(parseSpecText('b.yaml', reordered).network.specHash, base);
  const otherBatch = mlp.replace('batch_size: 8', 'batch_size: 100');
  assert.is(parseSpecText('a.yaml', otherBatch).network.specHash, base);
});

test('spec hash changes with the network', () => {
  const base = parseSpecText('a.yaml', mlp).network.specHash;
  assert.is.not(parseSpecText('a.yaml', mlp.replace('threshold: 1', 'threshold: 0.9')).network.specHash, base);
  assert.is.not(parseSpecText('a.yaml', mlp.replace('tau_m: 5', 'tau_m: 6')).network.specHash, base);
  assert.is.not(parseSpecText('a.yaml', mlp.replace('[1, 4, 4]', '[16, 1, 1]')).network.specHash, base);
});

test('defaults fill unset layer keys', () => {
  const spec = `Network:
  n_steps: 10
  loss: softmax
  n_class: 2
  tau_m: 5
  tau_s: 3
  input_shape: [1, 9, 7]
Layers:
  conv_1:
    type: conv
    in_channels: 1
    out_channels: 3
    kernel_size: [3, 2]
    stride: [2, 1]
    dilation: 2
  pooling_1:
    type: pooling
    kernel_size: [2, 3]
  dropout_1:
    type: dropout
  output:
    type: linear
    n_inputs: 3
    n_outputs: 2
`;
  const { network, warnings } = parseSpecText('defaults.yaml', spec);
  assert.equal(warnings, []);
  const conv = layer<ConvLayer>(network.layers, 'conv_1');
  // Height: floor((9 - 2·2 - 1)/2) + 1 = 3; width: floor((7 - 2·1 - 1)/1) + 1 = 5.
  assert.equal(conv.outShape, [3, 3, 5]);
  assert.equal(conv.padding, [0, 0]);
  assert.is(conv.weightScale, 1);
  assert.is(conv.threshold, 1);
  assert.equal(conv.weightShape, [3, 1, 3, 2]);
  const pooling = layer<PoolingLayer>(network.layers, 'pooling_1');
  assert.equal(pooling.stride, [2, 3]);
  assert.equal(pooling.outShape, [3, 1, 1]);
  assert.is(layer<Layer & { type: 'dropout'; p: number }>(network.layers, 'dropout_1').p, 0.5);
  assert.is(network.dataset, null);
  assert.is(network.batchSize, 50);
});

test('input shape option overrides the dataset', () => {
  const spec = mlp.replace('  input_shape: [1, 4, 4]\n', '  dataset: MNIST\n');
  const { network } = parseSpecText('a.yaml', spec, { inputShape: [1, 4, 4] });
  assert.equal(network.inputShape, [1, 4, 4]);
  assert.is(network.dataset, 'MNIST');
});

test('dataset spellings resolve to one name', () => {
  const spellings: [string, string][] = [
    ['mnist', 'MNIST'],
    ['Fashion-MNIST', 'FashionMNIST'],
    ['fashion_mnist', 'FashionMNIST'],
    ['cifar-10', 'CIFAR10'],
    ['NMNIST_Spiking', 'NMNIST'],
  ];
  for (const [spelling, name] of spellings) {
    const spec = mlp.replace('  input_shape: [1, 4, 4]\n', `  dataset: ${spelling}\n  input_shape: [1, 4, 4]\n`);
    const { network } = parseSpecText('a.yaml', spec);
    assert.is(network.dataset, name, spelling);
  }
});

test('ignored and unknown settings become warnings', () => {
  const spec = `Network:
  n_steps: 5
  loss: kernel
  desired_count: 4
  n_class: 3
  tau_m: 5
  tau_s: 3
  dataset: MNSIT
  input_shape: [1, 4, 4]
Layers:
  pooling_1:
    type: pooling
    kernel_size: 2
    threshold: 1
  output:
    type: linear
    n_inputs: 4
    n_outputs: 3
`;
  const { warnings } = parseSpecText('w.yaml', spec);
  assert.equal(warnings.map(formatDiagnostic), [
    "w.yaml:4:18 warning: Network.desired_count: has no effect with loss 'kernel'; only loss 'count' reads desired_count",
    "w.yaml:8:12 warning: Network.dataset: unknown dataset 'MNSIT' (did you mean 'MNIST'?); known datasets: MNIST, FashionMNIST, CIFAR10, NMNIST",
    'w.yaml:14:16 warning: Layers.pooling_1.threshold: has no effect because a pooling layer has no neuron; theta sets the scale of each window sum',
  ]);
});

test('missing spec file names the path', () => {
  try {
    loadSpec('specs/no-such-spec.yaml');
    assert.unreachable('loadSpec should throw');
  } catch (error) {
    assert.instance(error, SpecError);
    assert.is(
      (error as SpecError).message,
      'specs/no-such-spec.yaml:1:1: file not found; pass the path of a YAML spec such as specs/mnist.yaml',
    );
  }
});

test.run();
