"""Checks the PyTorch benchmark peer against the reference vectors of the TSSL-BP authors' code.

For every reference file it builds the network from the file's spec, loads the file's
weights and images, runs one forward and backward pass, and compares every activation,
the loss and every weight gradient: max|peer - ref| <= 1e-4 * max|ref| per tensor.
Prints one line per tensor and exits 1 when any tensor fails.

Usage: python3 bench/peer/check_golden.py [GOLDEN_DIR]
(default: the `shared/golden` folder beside the repository root).
"""

import glob
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tsslbp_torch as peer  # noqa: E402

TOLERANCE = 1e-4
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_GOLDEN_DIR = os.path.join(REPO_ROOT, "..", "shared", "golden")


def relative_error(actual, expected):
    """max|actual - expected| / max|expected| (the absolute difference when expected is all zero)."""
    diff = (actual - expected).abs().max().item()
    scale = expected.abs().max().item()
    return diff / scale if scale > 0 else diff


def check_case(golden_file, golden_dir):
    """Runs one reference case; returns a list of (tensor name, relative error)."""
    with open(golden_file, encoding="utf-8") as handle:
        case = json.load(handle)
    spec_file = os.path.join(golden_dir, "specs", case["spec"])
    network_config, layers_config = peer.load_spec(spec_file)
    model = peer.Network(network_config, layers_config, case["input_shape"], spec_file)

    trainable = {layer.name: layer for layer in model.layers if hasattr(layer, "weight")}
    missing = sorted(set(case["weights"]) ^ set(trainable))
    if missing:
        return [(f"weights of {', '.join(missing)}", float("inf"))]
    with torch.no_grad():
        for name, tensor in case["weights"].items():
            values = torch.tensor(tensor["data"], dtype=torch.float32)
            trainable[name].weight.copy_(values.reshape(trainable[name].weight.shape))

    images = torch.tensor(case["images"], dtype=torch.float32).reshape(case["batch"], *case["input_shape"])
    labels = torch.tensor(case["labels"], dtype=torch.int64)
    output_psp, activations = model(images, training=True, keep_activations=True)
    loss = peer.compute_loss(output_psp, labels, network_config)
    loss.backward()

    results = []
    for name, tensor in case["activations"].items():
        if name not in activations:
            results.append((f"activation {name} (not produced)", float("inf")))
            continue
        expected = torch.tensor(tensor["data"], dtype=torch.float32).reshape(tensor["shape"])
        actual = activations[name].detach()
        results.append((f"activation {name}", relative_error(actual, expected)))
    results.append(("loss", relative_error(loss.detach().reshape(1), torch.tensor([case["loss"]]))))
    for layer in model.layers:
        if layer.name not in case["weight_grads"]:
            continue
        tensor = case["weight_grads"][layer.name]
        expected = torch.tensor(tensor["data"], dtype=torch.float32)
        actual = layer.weight.grad.detach().reshape(-1)
        results.append((f"weight grad {layer.name}", relative_error(actual, expected)))
    return results


def main(argv):
    golden_dir = argv[0] if argv else DEFAULT_GOLDEN_DIR
    files = sorted(glob.glob(os.path.join(golden_dir, "*.json")))
    if not files:
        print(f"check_golden: no reference files (*.json) in {golden_dir}; pass the folder as the first argument")
        return 1
    torch.set_num_threads(1)

    failures = 0
    for golden_file in files:
        case_name = os.path.basename(golden_file)
        for tensor_name, error in check_case(golden_file, golden_dir):
            ok = error <= TOLERANCE
            failures += 0 if ok else 1
            print(f"{'ok  ' if ok else 'FAIL'} {case_name:28} {tensor_name:24} relative error {error:.2e}")

    print(f"{failures} tensor(s) outside {TOLERANCE:g} in {len(files)} reference file(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
