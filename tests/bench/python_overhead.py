#!/usr/bin/env python3
"""The Python binding's overhead on recommend: model.recommend(user, k=10)
for users 0, 1, 2, ... of a small trained MF model (so that the C call is
short and the binding's share visible), against the same calls timed in C by
bench_recommend on the same model file, both on one thread.

Usage: python_overhead.py BUILD_DIR [calls]
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import pylibreco


def main():
    build = sys.argv[1]
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    backend = pylibreco.Backend("cpu", threads=1)
    data = pylibreco.Dataset.synthetic(1000, 200, 20000, seed=1)
    model = pylibreco.MF(backend=backend, factors=16, loss="bpr").fit(data, epochs=1)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "mf.reco")
        model.save(path)
        loaded = pylibreco.Model.load(path, backend)
        for user in range(1000):  # warm up
            loaded.recommend(user, k=10, filter_already_liked_items=False)
        start = time.perf_counter()
        for call in range(calls):
            loaded.recommend(call % 1000, k=10, filter_already_liked_items=False)
        python_us = 1e6 * (time.perf_counter() - start) / calls
        output = subprocess.run([os.path.join(build, "tests", "bench", "bench_recommend"), path,
                                 str(calls), "10"], check=True, capture_output=True, text=True)
    c_us = float(re.search(r"([0-9.]+) us", output.stdout).group(1))
    print(f"MF 16 factors, 200 items, top 10: C {c_us:.2f} us a call, Python {python_us:.2f} us,"
          f" binding overhead {python_us - c_us:.2f} us (bar: < 20 us)")


if __name__ == "__main__":
    main()
