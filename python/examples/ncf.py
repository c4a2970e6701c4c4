"""Seed 000's job: NeuMF on MovieLens-1M, leave-one-out, 4 training negatives
per positive, 100 test negatives per user, Adam 0.001, batch 256, HR@10 and
NDCG@10 after every epoch (see ../shared/PROTOCOLS.md, seed 000).

Usage: python3 ncf.py [ml-1m/ratings.dat] [epochs]   (no file: synthetic data)
"""
import sys
import time

import pylibreco

path = sys.argv[1] if len(sys.argv) > 1 else None
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
data = pylibreco.Dataset.read(path) if path else pylibreco.Dataset.synthetic(943, 1682, 100000, 42)
train, test = data.split_leave_one_out()
test.sample_test_negatives(data, 100, seed=42)
model = pylibreco.NeuMF(factors=32, layers=(64, 32, 16, 8), negatives=4, learning_rate=0.001,
                      batch_size=256, init_seed=42)
print(f"libreco {pylibreco.version()}: NeuMF on {path or 'synthetic data'}: "
      f"{len(train)} training positives, {len(test)} test users x (1 + 100)")
start = time.monotonic()
for epoch in range(epochs):
    model.fit(train, epochs=1)
    metrics = model.evaluate_sampled(test, k=10)
    print(f"epoch {epoch + 1:2d}  {time.monotonic() - start:6.1f} s  loss {model.history[-1]:.4f}"
          f"  HR@10 {metrics['hr']:.3f}  NDCG@10 {metrics['ndcg']:.3f}")
