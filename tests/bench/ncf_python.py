#!/usr/bin/env python3
"""The job of ncf_torch.py through libreco's Python package: NeuMF 8 factors,
64-32-16-8, BCE with 4 negatives a positive, batch 256, Adam 0.001, on
ml-1m-implicit's training file, HR@10 against the .negative file's 99 negatives
after every epoch. Prints one line per epoch like ncf_torch.py.

Usage: ncf_python.py DATA_DIR [epochs] [threads]
"""
import sys
import time

import pylibreco


def main():
    data_dir = sys.argv[1] + "/ml-1m-implicit/"
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    backend = pylibreco.Backend("cpu", threads=threads)
    train = pylibreco.Dataset.read(data_dir + "ml-1m.implicit.train.tsv")
    test = pylibreco.Dataset.read(data_dir + "ml-1m.implicit.test.tsv", vocabulary_of=train)
    test.read_test_negatives(data_dir + "ml-1m.implicit.test.negative")
    model = pylibreco.NeuMF(backend=backend, init_seed=1)
    print(f"libreco {pylibreco.version()} from Python, NeuMF 8 factors, layers 64,32,16,8, "
          f"batch 256, 4 negatives, Adam 0.001, {threads} threads, {len(train)} positives")
    for epoch in range(epochs):
        start = time.perf_counter()
        model.fit(train, epochs=1)
        done = time.perf_counter()
        hr = model.evaluate_sampled(test)["hr"]
        print(f"python epoch {epoch + 1}: loss {model.history[-1]:.4f}, training {done - start:.2f} s"
              f" (sampling included), {len(train) * 5 / (done - start):.0f} samples/s, "
              f"HR@10 {hr:.4f}", flush=True)


if __name__ == "__main__":
    main()
