import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSpecText, SpecError } from '../../compiler/frontend/index';

// Each case is a broken spec and the exact lines SpecError.message must contain, in source order.
// Messages name file, line and column, the key path, the bad value and what would be valid.
interface BrokenSpec {
  name: string;
  yaml: string;
  errors: string[];
}

const cases: BrokenSpec[] = [
  {
    name: 'YAML syntax error',
    yaml: `Network:
  n_steps: 5
 tau_m: 5
`,
    errors: ['spec.yaml:3:1: invalid YAML: all mapping items must start at the same column'],
  },
  {
    name: 'unclosed quote',
    yaml: `Network:
  loss: "kernel
Layers: {}
`,
    errors: ['spec.yaml:4:1: invalid YAML: missing closing "quote'],
  },
  {
    name: 'duplicate key',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  tau_m: 4
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: ["spec.yaml:7:3 Network.tau_m: duplicate key 'tau_m', first set on line 5; keep one of them"],
  },
  {
    name: 'list document',
    yaml: `- conv
- linear
`,
    errors: ["spec.yaml:1:1: invalid spec: the document must be a mapping with the sections 'Network' and 'Layers', got ['conv', 'linear']"],
  },
  {
    name: 'empty document',
    yaml: '# nothing here\n',
    errors: ["spec.yaml:1:1: invalid spec: the document must be a mapping with the sections 'Network' and 'Layers', got an empty document"],
  },
  {
    name: 'two documents',
    yaml: `Network:
  n_steps: 5
---
Layers: {}
`,
    errors: ['spec.yaml:3:1: invalid spec: found a second YAML document; a spec is a single document, so remove the `---` separator and what follows it'],
  },
  {
    name: 'missing Network',
    yaml: `Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: [
      'spec.yaml:1:1 Network: missing required key, expected a mapping with n_steps, tau_m, tau_s, loss and n_class',
    ],
  },
  {
    name: 'missing Layers',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
`,
    errors: ['spec.yaml:1:1 Layers: missing required key, expected a mapping of layer names to layer settings, with at least one layer'],
  },
  {
    name: 'unknown top-level key',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layer:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: ["spec.yaml:8:1 Layer: unknown key 'Layer' (did you mean 'Layers'?); valid keys at the top level: Network, Layers"],
  },
  {
    name: 'unknown layer key',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [2, 8, 8]
Layers:
  conv_1:
    type: conv
    in_channels: 2
    out_channels: 4
    kernal_size: 3
  output:
    type: linear
    n_inputs: 144
    n_outputs: 3
`,
    errors: [
      "spec.yaml:13:5 Layers.conv_1.kernal_size: unknown key 'kernal_size' (did you mean 'kernel_size'?); valid keys for a conv layer: type, in_channels, out_channels, kernel_size, stride, padding, dilation, weight_scale, threshold",
    ],
  },
  {
    name: 'per-layer tau_m from older configs',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
    tau_m: 8
`,
    errors: ["spec.yaml:13:5 Layers.output.tau_m: unknown key 'tau_m': snnc uses one tau_m for all layers, so set it under Network"],
  },
  {
    name: 'unknown layer type',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  hidden:
    type: linaer
    n_inputs: 16
    n_outputs: 8
  output:
    type: linear
    n_inputs: 8
    n_outputs: 3
`,
    errors: ["spec.yaml:10:11 Layers.hidden.type: unknown layer type 'linaer' (did you mean 'linear'?); valid types: conv, linear, pooling, dropout"],
  },
  {
    name: 'wrong value types',
    yaml: `Network:
  n_steps: five
  loss: kernel
  n_class: 3
  tau_m: [5]
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 2.5
`,
    errors: [
      "spec.yaml:2:12 Network.n_steps: must be a positive integer, got 'five'",
      'spec.yaml:5:10 Network.tau_m: must be a number greater than 1, got [5]',
      'spec.yaml:12:16 Layers.output.n_outputs: must be a positive integer, got 2.5',
    ],
  },
  {
    name: 'quoted number',
    yaml: `Network:
  n_steps: "5"
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: ["spec.yaml:2:12 Network.n_steps: must be a positive integer, got '5', so remove the quotes"],
  },
  {
    name: 'negative kernel size',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [2, 8, 8]
Layers:
  conv_1:
    type: conv
    in_channels: 2
    out_channels: 4
    kernel_size: -3
  output:
    type: linear
    n_inputs: 144
    n_outputs: 3
`,
    errors: ['spec.yaml:13:18 Layers.conv_1.kernel_size: must be a positive integer or [height, width], got -3'],
  },
  {
    name: 'kernel size list of one',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [2, 8, 8]
Layers:
  conv_1:
    type: conv
    in_channels: 2
    out_channels: 4
    kernel_size: [3]
  output:
    type: linear
    n_inputs: 144
    n_outputs: 3
`,
    errors: ['spec.yaml:13:18 Layers.conv_1.kernel_size: must be a positive integer or [height, width], got [3]'],
  },
  {
    name: 'in_channels mismatch',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [2, 8, 8]
Layers:
  conv_1:
    type: conv
    in_channels: 2
    out_channels: 4
    kernel_size: 3
  conv_2:
    type: conv
    in_channels: 6
    out_channels: 5
    kernel_size: 3
  output:
    type: linear
    n_inputs: 80
    n_outputs: 3
`,
    errors: ['spec.yaml:16:18 Layers.conv_2.in_channels: got 6, but 4 channels arrive from conv_1 (4×6×6); set in_channels: 4'],
  },
  {
    name: 'in_channels mismatch at the input',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  dataset: MNIST
Layers:
  conv_1:
    type: conv
    in_channels: 3
    out_channels: 4
    kernel_size: 5
  output:
    type: linear
    n_inputs: 2304
    n_outputs: 3
`,
    errors: ['spec.yaml:11:18 Layers.conv_1.in_channels: got 3, but 1 channel arrives from the MNIST input (1×28×28); set in_channels: 1'],
  },
  {
    name: 'n_inputs mismatch',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 10
  tau_m: 5
  tau_s: 3
  dataset: MNIST
Layers:
  conv_1:
    type: conv
    in_channels: 1
    out_channels: 15
    kernel_size: 5
  pooling_1:
    type: pooling
    kernel_size: 2
  conv_2:
    type: conv
    in_channels: 15
    out_channels: 40
    kernel_size: 5
  pooling_2:
    type: pooling
    kernel_size: 2
  output:
    type: linear
    n_inputs: 600
    n_outputs: 10
`,
    errors: ['spec.yaml:27:15 Layers.output.n_inputs: got 600, expected 640 = 40×4×4 from pooling_2'],
  },
  {
    name: 'n_inputs mismatch at the input',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 10
  tau_m: 5
  tau_s: 3
  dataset: Fashion-MNIST
Layers:
  output:
    type: linear
    n_inputs: 800
    n_outputs: 10
`,
    errors: ['spec.yaml:11:15 Layers.output.n_inputs: got 800, expected 784 = 1×28×28 from the FashionMNIST input'],
  },
  {
    name: 'conv output below 1x1',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [2, 4, 4]
Layers:
  conv_1:
    type: conv
    in_channels: 2
    out_channels: 4
    kernel_size: [5, 3]
  output:
    type: linear
    n_inputs: 8
    n_outputs: 3
`,
    errors: [
      'spec.yaml:13:18 Layers.conv_1.kernel_size: output would be 0×2 with 2×4×4 arriving from the input set by Network.input_shape (kernel 5×3, stride 1, padding 0, dilation 1); the output must be at least 1×1, so reduce kernel_size, stride or dilation, or add padding',
    ],
  },
  {
    name: 'pooling output below 1x1',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [2, 6, 6]
Layers:
  conv_1:
    type: conv
    in_channels: 2
    out_channels: 4
    kernel_size: 5
  pooling_1:
    type: pooling
    kernel_size: 3
  output:
    type: linear
    n_inputs: 4
    n_outputs: 3
`,
    errors: [
      'spec.yaml:16:18 Layers.pooling_1.kernel_size: output would be 0×0 with 4×2×2 arriving from conv_1 (kernel 3, stride 3, padding 0); the output must be at least 1×1, so reduce kernel_size or remove this pooling layer',
    ],
  },
  {
    name: 'pooling padding above half the window',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  pooling_1:
    type: pooling
    kernel_size: 2
    padding: 2
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: ['spec.yaml:12:14 Layers.pooling_1.padding: must be at most half of kernel_size (2), got 2'],
  },
  {
    name: 'last n_outputs differs from n_class',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 10
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: [
      'spec.yaml:12:16 Layers.output.n_outputs: got 3, but Network.n_class is 10; the last layer needs one output neuron per class, so set n_outputs: 10',
    ],
  },
  {
    name: 'last layer without neurons',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
  dropout_1:
    type: dropout
    p: 0.2
`,
    errors: [
      'spec.yaml:13:3 Layers.dropout_1: the last layer must be linear or conv, because the network output is the PSP of its neurons, got a dropout layer; add a linear output layer (n_inputs: 3, n_outputs: 3)',
    ],
  },
  {
    name: 'n_steps 7 with kernel loss',
    yaml: `Network:
  n_steps: 7
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: [
      "spec.yaml:2:12 Network.n_steps: must be a multiple of 5 below 10 or a multiple of 10 from 10 up for loss 'kernel', got 7; the nearest valid values are 5 or 10",
    ],
  },
  {
    name: 'n_steps 15 with kernel loss',
    yaml: `Network:
  n_steps: 15
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: [
      "spec.yaml:2:12 Network.n_steps: must be a multiple of 5 below 10 or a multiple of 10 from 10 up for loss 'kernel', got 15; the nearest valid values are 10 or 20",
    ],
  },
  {
    name: 'n_steps 3 with kernel loss',
    yaml: `Network:
  n_steps: 3
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: [
      "spec.yaml:2:12 Network.n_steps: must be a multiple of 5 below 10 or a multiple of 10 from 10 up for loss 'kernel', got 3; the nearest valid values are 5",
    ],
  },
  {
    name: 'tau_m of 1',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 1
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: ['spec.yaml:5:10 Network.tau_m: must be a number greater than 1, got 1'],
  },
  {
    name: 'tau_s below 1',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 0.5
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: ['spec.yaml:6:10 Network.tau_s: must be a number greater than 1, got 0.5'],
  },
  {
    name: 'dropout p of 1',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  dropout_1:
    type: dropout
    p: 1
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: ['spec.yaml:11:8 Layers.dropout_1.p: must be a probability p with 0 ≤ p < 1, got 1'],
  },
  {
    name: 'unsupported rule and model',
    yaml: `Network:
  n_steps: 5
  rule: STDP
  model: IF
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: [
      "spec.yaml:3:9 Network.rule: unsupported learning rule 'STDP'; snnc supports only TSSLBP, so set rule: TSSLBP or remove the key",
      "spec.yaml:4:10 Network.model: unsupported neuron model 'IF'; snnc supports only LIF, so set model: LIF or remove the key",
    ],
  },
  {
    name: 'bad loss name',
    yaml: `Network:
  n_steps: 5
  loss: kernal
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: ["spec.yaml:3:9 Network.loss: must be one of kernel, count, softmax, got 'kernal' (did you mean 'kernel'?)"],
  },
  {
    name: 'count loss without counts',
    yaml: `Network:
  n_steps: 5
  loss: count
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: [
      "spec.yaml:1:1 Network.desired_count: missing required key for loss 'count', expected the target sum of output PSPs for the label neuron, a number of at least 0",
      "spec.yaml:1:1 Network.undesired_count: missing required key for loss 'count', expected the target sum of output PSPs for the other output neurons, a number of at least 0",
    ],
  },
  {
    name: 'desired count not above undesired',
    yaml: `Network:
  n_steps: 5
  loss: count
  desired_count: 1
  undesired_count: 2
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: [
      'spec.yaml:4:18 Network.desired_count: must be greater than undesired_count (2) so that the label neuron is trained to fire more than the others, got 1',
    ],
  },
  {
    name: 'empty Layers mapping',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
Layers: {}
`,
    errors: ['spec.yaml:7:9 Layers: must be a mapping of layer names to layer settings, with at least one layer, got an empty mapping'],
  },
  {
    name: 'empty Layers value',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
Layers:
`,
    errors: ['spec.yaml:7:1 Layers: must be a mapping of layer names to layer settings, with at least one layer, got an empty value'],
  },
  {
    name: 'invalid layer name',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  fc-1:
    type: linear
    n_inputs: 16
    n_outputs: 3
`,
    errors: [
      "spec.yaml:9:3 Layers.fc-1: invalid layer name 'fc-1': a layer name starts with a letter or underscore and contains only letters, digits and underscores, e.g. 'fc_1'",
    ],
  },
  {
    name: 'input shape that cannot be inferred',
    yaml: `Network:
  n_steps: 5
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
Layers:
  conv_1:
    type: conv
    in_channels: 2
    out_channels: 4
    kernel_size: 3
  output:
    type: linear
    n_inputs: 10
    n_outputs: 3
`,
    errors: [
      'spec.yaml:1:1 Network.input_shape: missing input shape: no square image from 1×1 to 1024×1024 with 2 channels gives output.n_inputs = 10; set Network.input_shape: [channels, height, width] or a known dataset (MNIST, FashionMNIST, CIFAR10, NMNIST)',
    ],
  },
  {
    name: 'several errors at once',
    yaml: `Network:
  n_steps: 7
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 1
  input_shape: [2, 8, 8]
  batch: 50
Layers:
  conv_1:
    type: conv
    in_channels: 3
    out_channels: 4
    kernel_size: 3
  pooling_1:
    type: pooling
    kernel_size: 2
  output:
    type: linear
    n_inputs: 30
    n_outputs: 3
`,
    errors: [
      "spec.yaml:2:12 Network.n_steps: must be a multiple of 5 below 10 or a multiple of 10 from 10 up for loss 'kernel', got 7; the nearest valid values are 5 or 10",
      'spec.yaml:6:10 Network.tau_s: must be a number greater than 1, got 1',
      "spec.yaml:8:3 Network.batch: unknown key 'batch' (did you mean 'batch_size'?); valid keys for Network: epochs, batch_size, n_steps, dataset, data_path, rule, model, lr, loss, n_class, desired_count, undesired_count, tau_m, tau_s, input_shape, input_encoding",
      'spec.yaml:12:18 Layers.conv_1.in_channels: got 3, but 2 channels arrive from the input set by Network.input_shape (2×8×8); set in_channels: 2',
      'spec.yaml:20:15 Layers.output.n_inputs: got 30, expected 36 = 4×3×3 from pooling_1',
    ],
  },
];

for (const spec of cases) {
  test(`rejects ${spec.name}`, () => {
    let caught: unknown = null;
    try {
      parseSpecText('spec.yaml', spec.yaml);
    } catch (error) {
      caught = error;
    }
    assert.instance(caught, SpecError, 'expected a SpecError');
    const error = caught as SpecError;
    assert.equal(error.message.split('\n'), spec.errors);
    assert.is(error.diagnostics.length, spec.errors.length);
    assert.ok(error.diagnostics.every((d) => d.severity === 'error'));
  });
}

test('table covers at least 25 broken specs', () => {
  assert.ok(cases.length >= 25, `${cases.length} cases`);
});

test.run();
