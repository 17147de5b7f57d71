"""Benchmark peer: TSSL-BP in PyTorch, laid out like the authors' reference code.

Activations are [batch, channels, height, width, T] with time fastest. A convolution is a
conv3d whose kernel spans one time step, and a linear layer is applied per step. The LIF
neuron is a custom autograd Function with a Python loop over time steps. The math follows
the TSSL-BP paper (Zhang and Li, NeurIPS 2020) as the authors' PyTorch implementation
computes it: synaptic filter, LIF forward, the TSSL-BP neuron backward, the kernel, count
and softmax losses, AdamW with decoupled weight decay 0.01, global gradient-norm clipping
to 1 and weights clamped to [-4, 4] after each step.

Usage:
  python3 tsslbp_torch.py bench --spec SPEC.yaml [--batch N] [--steps N] [--warmup N]
                                [--mode train|eval] [--threads N] [--seed N]
Prints one JSON object on stdout.
"""

import argparse
import json
import math
import platform
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import yaml

# Per-sample input shape [channels, height, width] of the datasets the spec format names.
DATASET_INPUT_SHAPES = {
    "mnist": (1, 28, 28),
    "fashionmnist": (1, 28, 28),
    "fashion_mnist": (1, 28, 28),
    "nmnist": (2, 34, 34),
    "cifar10": (3, 32, 32),
    "cifar-10": (3, 32, 32),
}

# Normalisation of raw pixels in [0, 1]: per-channel (mean, std).
DATASET_NORMALISATION = {
    1: ([0.1307], [0.3081]),
    3: ([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]),
}

SURROGATE_WIDTH = 0.2
WEIGHT_DECAY = 0.01
WEIGHT_CLAMP = 4.0
MAX_GRAD_NORM = 1.0


class SpecError(Exception):
    """An invalid or unsupported spec value; the message names the file, key and fix."""


# ----------------------------------------------------------------------------- spec


def as_pair(value, spec_file, key):
    """Returns (h, w) from an int or a two-element list."""
    if isinstance(value, bool):
        raise SpecError(f"{spec_file}: key '{key}' is {value!r}; expected an integer or [h, w]")
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (value[0], value[1])
    raise SpecError(f"{spec_file}: key '{key}' is {value!r}; expected an integer or [h, w]")


def load_spec(spec_file):
    """Reads a TSSL-BP config (top-level `Network:` and `Layers:`) into two dicts."""
    with open(spec_file, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    if not isinstance(raw, dict) or "Network" not in raw or "Layers" not in raw:
        raise SpecError(f"{spec_file}: expected top-level keys 'Network' and 'Layers'")
    network = raw["Network"]
    layers = raw["Layers"]
    if not isinstance(layers, dict) or not layers:
        raise SpecError(f"{spec_file}: 'Layers' must map layer names to layer settings")
    for key in ("n_steps", "tau_m", "tau_s", "loss", "n_class"):
        if key not in network:
            raise SpecError(f"{spec_file}: 'Network' is missing key '{key}'")
    return network, layers


def input_shape_of(network, spec_file, override=None):
    """Resolves the per-sample input shape from an override, `input_shape`, or `dataset`."""
    if override is not None:
        return tuple(override)
    if "input_shape" in network:
        shape = network["input_shape"]
        if isinstance(shape, list) and len(shape) == 3:
            return tuple(int(v) for v in shape)
        raise SpecError(f"{spec_file}: 'Network.input_shape' is {shape!r}; expected [channels, height, width]")
    dataset = str(network.get("dataset", "")).lower()
    if dataset in DATASET_INPUT_SHAPES:
        return DATASET_INPUT_SHAPES[dataset]
    raise SpecError(
        f"{spec_file}: cannot tell the input shape from 'Network.dataset' = {network.get('dataset')!r}; "
        "set 'Network.input_shape: [channels, height, width]' or pass --input-shape C,H,W"
    )


# ----------------------------------------------------------------------------- neuron


def synaptic_filter(currents, tau_s):
    """Passes [..., T] currents through the PSP filter: a = (1 - 1/tau_s) a + x, psp = a / tau_s."""
    n_steps = currents.shape[-1]
    a = torch.zeros_like(currents[..., 0])
    psps = []
    for t in range(n_steps):
        a = a * (1 - 1 / tau_s) + currents[..., t]
        psps.append(a / tau_s)
    return torch.stack(psps, dim=-1)


class LifTsslbp(torch.autograd.Function):
    """LIF neuron over T steps; backward is the TSSL-BP rule."""

    @staticmethod
    def forward(ctx, currents, threshold, tau_m, tau_s):
        n_steps = currents.shape[-1]
        theta_m = 1 / tau_m
        u = torch.zeros_like(currents[..., 0])
        s = torch.zeros_like(u)
        du_steps, u_steps, spike_steps, psp_steps = [], [], [], []
        for t in range(n_steps):
            du = -theta_m * u + currents[..., t]
            u = u + du
            spikes = (u > threshold).to(currents.dtype)
            du_steps.append(du)
            u_steps.append(u)
            spike_steps.append(spikes)
            u = u * (1 - spikes)
            s = s + (spikes - s) / tau_s
            psp_steps.append(s)

        du_all = torch.stack(du_steps, dim=-1)
        u_all = torch.stack(u_steps, dim=-1)
        spikes_all = torch.stack(spike_steps, dim=-1)
        psp_all = torch.stack(psp_steps, dim=-1)
        ctx.save_for_backward(du_all, u_all, spikes_all, psp_all)
        ctx.constants = (threshold, tau_m, tau_s)
        return psp_all

    @staticmethod
    def backward(ctx, grad_psp):
        du_all, u_all, spikes_all, psp_all = ctx.saved_tensors
        threshold, tau_m, tau_s = ctx.constants
        n_steps = grad_psp.shape[-1]
        theta_m = 1 / tau_m
        silent_psp = 1 / (4 * tau_s)
        decay = torch.arange(n_steps, dtype=grad_psp.dtype)
        alpha = (1 - 1 / tau_s) ** decay / tau_s  # PSP response k steps after a spike

        grad_current = torch.zeros_like(grad_psp)
        theta = torch.zeros_like(grad_psp[..., 0])
        for t in range(n_steps - 1, -1, -1):
            spikes = spikes_all[..., t]
            u = u_all[..., t]
            # Spike-time shift per unit of membrane potential, zero without a spike.
            partial_u = torch.clamp(-1 / du_all[..., t], -8, 0) * spikes
            psp_response = torch.sum(alpha[: n_steps - t] * grad_psp[..., t:], dim=-1)

            grad = -partial_u * psp_response
            if t < n_steps - 1:
                grad = grad + theta * u * (-theta_m) * partial_u
                grad = grad + theta * (1 - theta_m) * (1 - spikes)
            theta = grad * spikes + theta * (1 - spikes) * (1 - theta_m)

            # A (nearly) silent neuron takes the sigmoid-derivative surrogate instead.
            f = torch.exp(torch.clamp((threshold - u) / SURROGATE_WIDTH, -8, 8))
            surrogate = psp_response * f / ((1 + f) * (1 + f) * SURROGATE_WIDTH)
            silent = psp_all[..., t] < silent_psp
            grad_current[..., t] = torch.where(silent, surrogate, grad)

        return grad_current, None, None, None


# ----------------------------------------------------------------------------- layers


class ConvLayer(torch.nn.Module):
    def __init__(self, name, config, in_shape, network, spec_file):
        super().__init__()
        self.name = name
        in_channels = config["in_channels"]
        if in_channels != in_shape[0]:
            raise SpecError(
                f"{spec_file}: layer '{name}' has in_channels {in_channels} but receives {in_shape[0]} channels"
            )
        self.out_channels = config["out_channels"]
        self.kernel = as_pair(config["kernel_size"], spec_file, f"{name}.kernel_size")
        self.stride = as_pair(config.get("stride", 1), spec_file, f"{name}.stride")
        self.padding = as_pair(config.get("padding", 0), spec_file, f"{name}.padding")
        self.dilation = as_pair(config.get("dilation", 1), spec_file, f"{name}.dilation")
        self.threshold = float(config.get("threshold", 1))
        self.weight_scale = float(config.get("weight_scale", 1))
        self.tau_m = float(network["tau_m"])
        self.tau_s = float(network["tau_s"])
        # The weight carries a trailing time axis of 1, as the authors' conv3d weights do.
        self.weight = torch.nn.Parameter(torch.empty(self.out_channels, in_channels, *self.kernel, 1))
        out_hw = [
            (in_shape[1 + i] + 2 * self.padding[i] - self.dilation[i] * (self.kernel[i] - 1) - 1) // self.stride[i] + 1
            for i in range(2)
        ]
        if min(out_hw) < 1:
            raise SpecError(f"{spec_file}: layer '{name}' maps input {list(in_shape)} to an empty output {out_hw}")
        self.out_shape = (self.out_channels, out_hw[0], out_hw[1])

    def init_weights(self, generator):
        fan_in = self.weight.shape[1] * self.kernel[0] * self.kernel[1]
        bound = 1 / math.sqrt(fan_in)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound, generator=generator).mul_(self.weight_scale)

    def forward(self, psp, training):
        currents = F.conv3d(
            psp,
            self.weight,
            None,
            (*self.stride, 1),
            (*self.padding, 0),
            (*self.dilation, 1),
        )
        return LifTsslbp.apply(currents, self.threshold, self.tau_m, self.tau_s)


class LinearLayer(torch.nn.Module):
    def __init__(self, name, config, in_shape, network, spec_file):
        super().__init__()
        self.name = name
        n_inputs = config["n_inputs"]
        flat = in_shape[0] * in_shape[1] * in_shape[2]
        if n_inputs != flat:
            raise SpecError(
                f"{spec_file}: layer '{name}' has n_inputs {n_inputs} but its input {list(in_shape)} has {flat} values"
            )
        self.n_outputs = config["n_outputs"]
        self.threshold = float(config.get("threshold", 1))
        self.weight_scale = float(config.get("weight_scale", 1))
        self.tau_m = float(network["tau_m"])
        self.tau_s = float(network["tau_s"])
        self.weight = torch.nn.Parameter(torch.empty(self.n_outputs, n_inputs))
        self.out_shape = (self.n_outputs, 1, 1)

    def init_weights(self, generator):
        std = math.sqrt(2 / self.weight.shape[1])
        with torch.no_grad():
            self.weight.normal_(0, std, generator=generator).mul_(self.weight_scale)

    def forward(self, psp, training):
        batch, n_steps = psp.shape[0], psp.shape[-1]
        flat = psp.reshape(batch, -1, n_steps)  # channel slowest, then row, column
        currents = F.linear(flat.transpose(1, 2), self.weight).transpose(1, 2)
        currents = currents.reshape(batch, self.n_outputs, 1, 1, n_steps)
        return LifTsslbp.apply(currents, self.threshold, self.tau_m, self.tau_s)


class PoolingLayer(torch.nn.Module):
    """Scaled window sum per channel and step; no neuron, not trainable."""

    def __init__(self, name, config, in_shape, spec_file):
        super().__init__()
        self.name = name
        self.kernel = as_pair(config["kernel_size"], spec_file, f"{name}.kernel_size")
        self.stride = as_pair(config.get("stride", config["kernel_size"]), spec_file, f"{name}.stride")
        self.padding = as_pair(config.get("padding", 0), spec_file, f"{name}.padding")
        self.theta = float(config.get("theta", 1.1))
        out_hw = [(in_shape[1 + i] + 2 * self.padding[i] - self.kernel[i]) // self.stride[i] + 1 for i in range(2)]
        self.out_shape = (in_shape[0], out_hw[0], out_hw[1])

    def forward(self, psp, training):
        window = self.kernel[0] * self.kernel[1]
        # avg_pool3d counts padded taps, so multiplying by the window area gives the window sum.
        mean = F.avg_pool3d(psp, (*self.kernel, 1), (*self.stride, 1), (*self.padding, 0))
        return mean * (window * self.theta)


class DropoutLayer(torch.nn.Module):
    """One Bernoulli mask per sample and neuron, shared by all time steps."""

    def __init__(self, name, config, in_shape):
        super().__init__()
        self.name = name
        self.p = float(config.get("p", 0.5))
        self.out_shape = tuple(in_shape)

    def forward(self, psp, training):
        if not training or self.p == 0:
            return psp
        keep = torch.empty(psp.shape[:-1] + (1,), dtype=psp.dtype).bernoulli_(1 - self.p)
        return psp * keep / (1 - self.p)


class Network(torch.nn.Module):
    def __init__(self, network_config, layers_config, input_shape, spec_file):
        super().__init__()
        self.config = network_config
        self.n_steps = int(network_config["n_steps"])
        self.tau_s = float(network_config["tau_s"])
        self.input_shape = tuple(input_shape)
        self.layers = torch.nn.ModuleList()
        shape = self.input_shape
        for name, config in layers_config.items():
            kind = config.get("type")
            if kind == "conv":
                layer = ConvLayer(name, config, shape, network_config, spec_file)
            elif kind == "linear":
                layer = LinearLayer(name, config, shape, network_config, spec_file)
            elif kind == "pooling":
                layer = PoolingLayer(name, config, shape, spec_file)
            elif kind == "dropout":
                layer = DropoutLayer(name, config, shape)
            else:
                raise SpecError(
                    f"{spec_file}: layer '{name}' has type {kind!r}; expected conv, linear, pooling or dropout"
                )
            self.layers.append(layer)
            shape = layer.out_shape
        self.out_shape = shape

    def init_weights(self, seed):
        generator = torch.Generator().manual_seed(seed)
        for layer in self.layers:
            if hasattr(layer, "init_weights"):
                layer.init_weights(generator)

    def forward(self, images, training, keep_activations=False):
        """Maps static images [batch, c, h, w] to output PSPs [batch, n_class, 1, 1, T]."""
        currents = images.unsqueeze(-1).repeat(1, 1, 1, 1, self.n_steps)
        psp = synaptic_filter(currents, self.tau_s)
        activations = {"input_psp": psp} if keep_activations else None
        for layer in self.layers:
            psp = layer(psp, training)
            if keep_activations:
                activations[layer.name] = psp
        return psp, activations


# ----------------------------------------------------------------------------- losses


def kernel_target_pattern(n_steps):
    """Desired spike train: 0 1 1 1 1 per 5 steps below T = 10, else 0 1 0 1 … per 10 steps."""
    if n_steps < 10:
        if n_steps % 5 != 0:
            raise SpecError(f"kernel loss needs n_steps to be a multiple of 5, got {n_steps}")
        return [0.0, 1.0, 1.0, 1.0, 1.0] * (n_steps // 5)
    if n_steps % 10 != 0:
        raise SpecError(f"kernel loss needs n_steps of 10 or more to be a multiple of 10, got {n_steps}")
    return [0.0, 1.0] * (n_steps // 2)


def compute_loss(output_psp, labels, network_config):
    """Computes the spec's loss of output PSPs [batch, n_class, 1, 1, T] against class labels."""
    kind = network_config["loss"]
    n_steps = output_psp.shape[-1]
    batch, n_class = output_psp.shape[0], output_psp.shape[1]
    psp = output_psp.reshape(batch, n_class, n_steps)
    onehot = F.one_hot(labels.long(), n_class).to(psp.dtype)

    if kind == "kernel":
        pattern = torch.tensor(kernel_target_pattern(n_steps), dtype=psp.dtype)
        tau_s = float(network_config["tau_s"])
        # The reference filters the desired spike train twice.
        target_psp = synaptic_filter(synaptic_filter(pattern, tau_s), tau_s)
        target = onehot.unsqueeze(-1) * target_psp
        return 0.5 * torch.sum((psp - target) ** 2)

    counts = psp.sum(dim=-1)
    if kind == "count":
        desired = float(network_config["desired_count"])
        undesired = float(network_config["undesired_count"])
        target = onehot * desired + (1 - onehot) * undesired
        delta = (counts - target) / n_steps
        satisfied = ((onehot > 0) & (counts >= target)) | ((onehot == 0) & (counts <= target))
        delta = torch.where(satisfied, torch.zeros_like(delta), delta)
        return 0.5 * torch.sum(delta.unsqueeze(-1).expand(-1, -1, n_steps) ** 2)

    if kind == "softmax":
        return F.cross_entropy(counts, labels.long())

    raise SpecError(f"'Network.loss' is {kind!r}; expected kernel, count or softmax")


# ----------------------------------------------------------------------------- training


def make_optimizer(model, lr):
    return torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=WEIGHT_DECAY)


def train_step(model, optimizer, images, labels):
    """Forward, loss, backward, clipping, AdamW, clamp; returns the loss."""
    optimizer.zero_grad(set_to_none=True)
    output_psp, _ = model(images, training=True)
    loss = compute_loss(output_psp, labels, model.config)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
    optimizer.step()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.clamp_(-WEIGHT_CLAMP, WEIGHT_CLAMP)
    return loss.item()


def random_batch(input_shape, n_class, batch, generator):
    """Draws uniform pixels in [0, 1), normalised like the dataset with that channel count, and random labels."""
    pixels = torch.rand((batch, *input_shape), generator=generator)
    mean, std = DATASET_NORMALISATION.get(input_shape[0], ([0.5] * input_shape[0], [0.25] * input_shape[0]))
    mean_t = torch.tensor(mean).reshape(1, -1, 1, 1)
    std_t = torch.tensor(std).reshape(1, -1, 1, 1)
    labels = torch.randint(0, n_class, (batch,), generator=generator)
    return (pixels - mean_t) / std_t, labels


def peak_rss_mb():
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(args):
    torch.set_num_threads(args.threads)
    network_config, layers_config = load_spec(args.spec)
    input_shape = input_shape_of(network_config, args.spec, args.input_shape)
    model = Network(network_config, layers_config, input_shape, args.spec)
    model.init_weights(args.seed)
    generator = torch.Generator().manual_seed(args.seed + 1)
    images, labels = random_batch(input_shape, int(network_config["n_class"]), args.batch, generator)
    lr = float(network_config.get("lr", 0.0005))
    optimizer = make_optimizer(model, lr)

    step_seconds = []
    losses = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        if args.mode == "train":
            losses.append(train_step(model, optimizer, images, labels))
        else:
            with torch.no_grad():
                model(images, training=False)
        elapsed = time.perf_counter() - start
        if step >= args.warmup:
            step_seconds.append(elapsed)

    median = statistics.median(step_seconds)
    result = {
        "implementation": "pytorch-peer",
        "mode": args.mode,
        "spec": args.spec,
        "batch": args.batch,
        "n_steps": model.n_steps,
        "input_shape": list(input_shape),
        "steps": args.steps,
        "warmup": args.warmup,
        "threads": torch.get_num_threads(),
        "images_per_s": args.batch / median,
        "step_seconds": step_seconds,
        "peak_rss_mb": peak_rss_mb(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if losses:
        result["losses"] = losses
    print(json.dumps(result))
    return 0


def parse_shape(text):
    parts = text.split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"--input-shape is {text!r}; expected C,H,W such as 1,28,28")
    return tuple(int(p) for p in parts)


def main(argv):
    parser = argparse.ArgumentParser(description="TSSL-BP in PyTorch, the benchmark peer of snnc")
    commands = parser.add_subparsers(dest="command", required=True)
    bench_parser = commands.add_parser("bench", help="time training steps or forward passes on random inputs")
    bench_parser.add_argument("--spec", required=True, help="TSSL-BP config YAML")
    bench_parser.add_argument("--batch", type=int, default=50, help="batch size (images per step)")
    bench_parser.add_argument("--steps", type=int, default=5, help="timed steps")
    bench_parser.add_argument("--warmup", type=int, default=1, help="untimed steps before the timed ones")
    bench_parser.add_argument("--mode", choices=["train", "eval"], default="train",
                              help="train: full training step; eval: forward only, no grad, no dropout")
    bench_parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    bench_parser.add_argument("--seed", type=int, default=1, help="seed of weights and inputs")
    bench_parser.add_argument("--input-shape", type=parse_shape, default=None,
                              help="per-image shape C,H,W when the spec names no known dataset")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.steps < 1 or args.warmup < 0:
        parser.error("--batch and --steps must be at least 1 and --warmup at least 0")
    try:
        return bench(args)
    except SpecError as error:
        print(f"tsslbp_torch: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
