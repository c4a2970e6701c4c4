#!/usr/bin/env python3
"""HR@10 of the NCF job over seeds: NeuMF 8 factors, 64-32-16-8, 4 negatives,
batch 256, Adam 0.001, on ml-1m-implicit with its .negative file, HR@10 after
every epoch, one line per seed (the model's initial values and the trainer's
sampling both seeded by it). For seed-noise comparisons between builds.

Usage: LIBRECO_PATH=build/lib PYTHONPATH=python hr_seeds.py DATA_DIR SEEDS EPOCHS [LABEL]
       (SEEDS: comma-separated, e.g. 1,2,3,4,5)
"""
import sys

import pylibreco


def main():
    data_dir = sys.argv[1] + "/ml-1m-implicit/"
    seeds = [int(seed) for seed in sys.argv[2].split(",")]
    epochs = int(sys.argv[3])
    label = sys.argv[4] if len(sys.argv) > 4 else "libreco"
    train = pylibreco.Dataset.read(data_dir + "ml-1m.implicit.train.tsv")
    test = pylibreco.Dataset.read(data_dir + "ml-1m.implicit.test.tsv", vocabulary_of=train)
    test.read_test_negatives(data_dir + "ml-1m.implicit.test.negative")
    backend = pylibreco.Backend("cpu", threads=2)
    for seed in seeds:
        model = pylibreco.NeuMF(backend=backend, init_seed=seed, seed=seed)
        hits = []
        for _ in range(epochs):
            model.fit(train, epochs=1)
            hits.append(model.evaluate_sampled(test)["hr"])
        print(label, "seed", seed, " ".join(f"{hr:.4f}" for hr in hits), flush=True)


if __name__ == "__main__":
    main()
