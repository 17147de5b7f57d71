// Code generation, manifest: everything the runtime needs besides the kernel code: the
// network, kernels with their arguments and output sizes, buffers, parameter initialisation
// and the execution order of a training step and of an evaluation pass.

import { MANIFEST_FORMAT, MANIFEST_VERSION, type KernelPhase, type Manifest, type ManifestParameter } from '../../common/manifest';
import { isSynapse, type Network } from '../../common/network';
import { formatOp } from '../ir/print';
import type { IrModule } from '../ir/ir';
import { oversizedBuffers, parameterBufferName } from '../passes/plan-buffers';
import type { KernelContext } from './contexts';

function scheduleOf(module: IrModule, phase: 'forward' | 'backward' | 'optimizer'): string[] {
  return (module.kernels ?? [])
    .filter((kernel) => kernel.phase === phase)
    .map((kernel) => (kernel.kind === 'host' ? `host:${kernel.name.replace(/^host_/, '')}` : kernel.name));
}

function parameters(network: Network): ManifestParameter[] {
  return network.layers.filter(isSynapse).map((layer) => {
    const size = layer.weightShape.reduce((product: number, dim: number) => product * dim, 1);
    const init: ManifestParameter['init'] =
      layer.type === 'conv'
        ? { distribution: 'uniform', bound: 1 / Math.sqrt(layer.inChannels * layer.kernelSize[0] * layer.kernelSize[1]), scale: layer.weightScale }
        : { distribution: 'normal', std: Math.sqrt(2 / layer.nInputs), scale: layer.weightScale };
    return { layer: layer.name, buffer: parameterBufferName(layer.name), shape: [...layer.weightShape], size, init };
  });
}

function activations(module: IrModule): Manifest['activations'] {
  const names = ['input_psp', ...module.network.layers.map((layer) => layer.name)];
  return names.map((name) => {
    const tensor = name === 'input_psp' ? 'input_psp' : `${name}.psp`;
    const kernels = (module.kernels ?? []).filter((kernel) => kernel.phase === 'readback' && kernel.output === tensor).map((kernel) => kernel.name);
    return { name, buffer: tensor, kernels };
  });
}

/** Builds the manifest of a compiled module from its kernel contexts and sources. */
export function buildManifest(module: IrModule, contexts: KernelContext[], sources: Record<string, string>): Manifest {
  const network = module.network;
  const buffers = module.buffers ?? [];
  const largestSide = Math.max(0, ...buffers.map((buffer) => Math.max(...buffer.texture)));
  const synapses = network.layers.filter(isSynapse);
  const masks: Record<string, string> = {};
  for (const layer of network.layers) if (layer.type === 'dropout') masks[layer.name] = `${layer.name}.mask`;
  const lastLayer = network.layers[network.layers.length - 1];

  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    network,
    compiledBatchSize: network.batchSize,
    texture: { maxSide: module.maxTextureSize, largestSide, fits: oversizedBuffers(module).length === 0 },
    kernels: contexts.map((context) => ({
      name: context.group.name,
      kind: context.group.kind,
      phase: context.group.phase as KernelPhase,
      output: context.output,
      args: context.params.map((param) => ({ ...param })),
      source: sources[context.group.name],
      ops: [...context.group.recomputes, ...context.group.ops].map((id) => formatOp(module, module.ops[id])),
      reason: context.group.reason,
    })),
    buffers: buffers.map((buffer) => ({
      name: buffer.name,
      shape: buffer.shape,
      role: buffer.role,
      perSample: buffer.perSample,
      fixed: buffer.fixed,
      elements: buffer.elements,
      bytes: buffer.bytes,
      texture: buffer.texture,
      packs: buffer.packs,
    })),
    parameters: parameters(network),
    feeds: { input: 'x', labels: 'labels', masks },
    schedule: {
      forward: scheduleOf(module, 'forward'),
      backward: scheduleOf(module, 'backward'),
      optimizer: scheduleOf(module, 'optimizer'),
      evaluate: scheduleOf(module, 'forward').filter((name) => !name.startsWith('host:')),
    },
    outputs: {
      outputPsp: `${lastLayer.name}.psp`,
      weightGrads: Object.fromEntries(synapses.map((layer) => [layer.name, `${layer.name}.w.grad`])),
      gradSquares: Object.fromEntries(synapses.map((layer) => [layer.name, `${layer.name}.w.grad.sq`])),
    },
    activations: activations(module),
  };
}
