#!/usr/bin/env python3
"""The peer model_bench measures tacit against: the same GRU trained by PyTorch.

Same architecture and layout as tacit's "gru" config (Embedding(vocab, embedding,
padding_idx=0) -> GRU(embedding, hidden, batch_first) -> Linear(hidden, vocab)),
cross-entropy ignoring target 0, Adam, the same batch, window and thread count.
Prints one JSON object: tokens/s over the timed steps (warm-up excluded) and the
process's peak RSS (resource.getrusage, the whole interpreter, as a user sees it).
Needs python3-torch (Debian); exits 2 when torch is missing, 1 when a step failed.

  python3 bench/models/pytorch_reference.py --steps 40 --warmup 3 --batch 32
"""
import argparse
import json
import resource
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="timed optimizer steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--batch", type=int, default=32, help="windows per step")
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--embedding", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.002)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()  # unknown flags: argparse exits 2 with a message
    if args.steps < 1 or args.warmup < 0 or args.batch < 1 or args.threads < 1:
        parser.error("--steps, --batch and --threads must be >= 1, --warmup >= 0")

    try:
        import torch
    except ImportError:
        print("pytorch_reference: python3-torch is not installed "
              "(apt-get install python3-torch)", file=sys.stderr)
        return 2

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    # Debian's torch does not pass its thread count on to OpenBLAS, which would
    # otherwise run every product on all cores: hold it to --threads as tacit does.
    openblas = None
    try:
        import ctypes
        openblas = ctypes.CDLL("libopenblas.so.0")
        openblas.openblas_get_config.restype = ctypes.c_char_p
        openblas.openblas_get_corename.restype = ctypes.c_char_p
        openblas.openblas_set_num_threads(args.threads)
    except (OSError, AttributeError):
        openblas = None
    torch.manual_seed(args.seed)

    class Gru(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(args.vocab, args.embedding, padding_idx=0)
            self.gru = torch.nn.GRU(args.embedding, args.hidden, batch_first=True)
            self.output = torch.nn.Linear(args.hidden, args.vocab)

        def forward(self, tokens):
            return self.output(self.gru(self.embedding(tokens))[0])

    model = Gru()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=0)
    generator = torch.Generator().manual_seed(args.seed)
    # Token ids drawn once: the time is the training step's, not the data's.
    data = torch.randint(1, args.vocab, (args.warmup + args.steps, args.batch, args.window + 1),
                         generator=generator)

    def step(batch):
        logits = model(batch[:, :-1])
        loss = loss_fn(logits.reshape(-1, args.vocab), batch[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    for i in range(args.warmup):
        step(data[i])
    start = time.perf_counter()
    cpu_start = time.process_time()
    loss = 0.0
    for i in range(args.steps):
        loss = step(data[args.warmup + i])
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    if not (seconds > 0.0 and loss == loss):
        print("pytorch_reference: no valid measurement (time %r, loss %r)" % (seconds, loss),
              file=sys.stderr)
        return 1
    params = sum(p.numel() for p in model.parameters())
    blas = "not OpenBLAS"
    if openblas is not None:  # Debian's torch calls libblas.so.3, OpenBLAS here
        blas = "%s; core %s; %d threads" % (openblas.openblas_get_config().decode(),
                                           openblas.openblas_get_corename().decode(),
                                           openblas.openblas_get_num_threads())
    print(json.dumps({
        "torch": torch.__version__,
        "blas": blas,
        "parameters": params,
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "window": args.window,
        "steps": args.steps,
        "warmup_steps": args.warmup,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "tokens_per_s": args.steps * args.batch * args.window / seconds,
        "last_loss": loss,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
