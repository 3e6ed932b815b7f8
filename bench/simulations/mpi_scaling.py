#!/usr/bin/env python3
"""Strong and weak scaling of tacit-sim over MPI ranks on this machine.

Runs one config in one process and under `mpirun -np N` (rank 0 runs the
coordinator's round, N - 1 shard ranks run the laptops), each point `--repeats`
times, and prints medians: seconds of rounds (training plus secure
aggregation; loading and evaluation excluded), simulated client updates per
second and per core. Strong scaling keeps the config; weak scaling multiplies
the population and the cohort by the number of shard ranks. Fails (exit 1)
when a run fails, a round does not commit, or a strong-scaling run's final
model differs from the one-process run's (the same seed must give the same
model on any number of ranks).

  bench/simulations/mpi_scaling.py [--config simulations/configs/mpi_scaling.json]
      [--ranks 1,2,3,5] [--repeats 3] [--json report.json]
"""

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(message):
    print(f"mpi_scaling: {message}", file=sys.stderr)
    sys.exit(1)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_once(tool, config, processes, folder):
    """One run; returns (round seconds, client updates, model bytes, BLAS line)."""
    command = [tool, "run", "--config", config, "--out", folder]
    env = dict(os.environ)
    if processes > 1:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        command = ["mpirun", "--oversubscribe", "-np", str(processes)] + command
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    seconds, updates, committed = 0.0, 0, 0
    with open(os.path.join(folder, "rounds.csv")) as f:
        for row in csv.DictReader(f):
            seconds += float(row["wall_seconds"])
            if float(row["train_seconds"]) > 0:
                updates += int(row["selected"]) - int(row["stragglers"])
            committed += row["outcome"] == "committed"
    with open(os.path.join(folder, "config.json")) as f:
        wanted = json.load(f)["task"]["rounds"]
    if committed != wanted:
        fail(f"{folder}: {committed} of {wanted} rounds committed")
    if updates == 0 or seconds <= 0:
        fail(f"{folder}: no client update was trained")
    blas = next((l for l in done.stdout.splitlines() if l.startswith("seed ")), "")
    with open(os.path.join(folder, "final_model.tacitmodel"), "rb") as f:
        model = f.read()
    return seconds, updates, model, blas


def scaled_config(base, shards, folder):
    """The weak-scaling config: population and cohort times `shards`."""
    with open(base) as f:
        config = json.load(f)
    config["population"]["people"] *= shards
    cohort = config["task"]["cohort"]
    cohort["size"] *= shards
    cohort["min_survivors"] *= shards
    path = os.path.join(folder, f"weak-{shards}.json")
    with open(path, "w") as f:
        json.dump(config, f)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=os.path.join(ROOT, "simulations/configs/mpi_scaling.json"))
    parser.add_argument("--ranks", default="1,2,3,5", help="process counts; 1 = no mpirun")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tool", default=os.path.join(ROOT, "build/bin/tacit-sim"))
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    ranks = [int(r) for r in args.ranks.split(",")]
    if not ranks or min(ranks) < 1 or args.repeats < 1:
        fail("--ranks needs process counts >= 1 and --repeats >= 1")
    if any(r > 1 for r in ranks) and shutil.which("mpirun") is None:
        fail("mpirun not found (scripts/setup installs openmpi-bin)")
    if not os.access(args.tool, os.X_OK):
        fail(f"{args.tool} is not built (scripts/build)")
    cores = os.cpu_count() or 1
    work = tempfile.mkdtemp(prefix="tacit-mpi-scaling-")
    rows, blas, reference = [], "", None
    try:
        for mode in ("strong", "weak"):
            for processes in ranks:
                shards = max(1, processes - 1)
                config = args.config if mode == "strong" else scaled_config(args.config, shards, work)
                times, updates = [], 0
                for repeat in range(args.repeats):
                    folder = os.path.join(work, f"{mode}-{processes}-{repeat}")
                    seconds, updates, model, blas = run_once(args.tool, config, processes, folder)
                    times.append(seconds)
                    if mode == "strong":
                        if reference is None:
                            reference = model
                        elif model != reference:
                            fail(f"{folder}: the final model differs from the first run's "
                                 "(same config and seed)")
                    shutil.rmtree(folder)
                median = statistics.median(times)
                used = min(cores, processes)
                rows.append({"scaling": mode, "processes": processes,
                             "shard_ranks": processes - 1 if processes > 1 else 0,
                             "round_seconds_median": round(median, 3),
                             "round_seconds_all": [round(t, 3) for t in times],
                             "client_updates": updates,
                             "updates_per_second": round(updates / median, 3),
                             "cores_used": used,
                             "updates_per_second_per_core": round(updates / median / used, 3)})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {cpu_model()}, {cores} cores; {blas}")
    print(f"config: {args.config}; {args.repeats} repeats, medians; weak scaling multiplies "
          "people and cohort by the shard ranks")
    header = ("scaling", "processes", "shard_ranks", "round_seconds_median", "client_updates",
              "updates_per_second", "cores_used", "updates_per_second_per_core")
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row[k]) for k in header))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bench": "mpi_scaling", "machine": {"cpu": cpu_model(), "cores": cores,
                                                           "blas": blas},
                       "config": args.config, "repeats": args.repeats, "figures": rows}, f,
                      indent=2)


if __name__ == "__main__":
    main()
