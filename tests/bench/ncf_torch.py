#!/usr/bin/env python3
"""PyTorch baseline for bench_train: the same NeuMF epoch, timed the same way.

NeuMF with 8 factors and an MLP tower 64,32,16,8 (the first is the concatenated
embedding width), BCE with logits, 4 negatives per positive resampled each
epoch, batch 256, Adam lr 0.001, on ml-1m-implicit's training file. Data lives
in index tensors and batches are slices of a shuffled permutation (no
DataLoader), which is the fastest way PyTorch tutorials write this loop.

Usage: ncf_torch.py DATA_DIR [epochs] [threads] [seed]
Prints one line per epoch: sampling seconds, training seconds, samples/s, and
HR@10 on the test users against their 99 negatives of the .negative file.
Needs python3-torch (Debian: apt-get install python3-torch); libreco does not.
"""
import sys
import time

import numpy as np
import torch
from torch import nn


class NeuMF(nn.Module):
    def __init__(self, n_users, n_items, factors=8, layers=(64, 32, 16, 8)):
        super().__init__()
        self.user_gmf = nn.Embedding(n_users, factors)
        self.item_gmf = nn.Embedding(n_items, factors)
        self.user_mlp = nn.Embedding(n_users, layers[0] // 2)
        self.item_mlp = nn.Embedding(n_items, layers[0] // 2)
        tower = []
        for width_in, width_out in zip(layers[:-1], layers[1:]):
            tower += [nn.Linear(width_in, width_out), nn.ReLU()]
        self.tower = nn.Sequential(*tower)
        self.head = nn.Linear(factors + layers[-1], 1)
        for table in (self.user_gmf, self.item_gmf, self.user_mlp, self.item_mlp):
            nn.init.normal_(table.weight, std=0.01)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, users, items):
        gmf = self.user_gmf(users) * self.item_gmf(items)
        mlp = self.tower(torch.cat([self.user_mlp(users), self.item_mlp(items)], dim=1))
        return self.head(torch.cat([gmf, mlp], dim=1)).squeeze(1)


def sample_epoch(users, items, n_items, seen, negatives, generator):
    """Each positive followed by `negatives` items the user never rated."""
    neg_users = np.repeat(users, negatives)
    neg_items = generator.integers(0, n_items, neg_users.size)
    while True:
        keys = neg_users.astype(np.int64) * n_items + neg_items
        bad = np.flatnonzero(np.isin(keys, seen))
        if bad.size == 0:
            break
        neg_items[bad] = generator.integers(0, n_items, bad.size)
    all_users = np.concatenate([users, neg_users])
    all_items = np.concatenate([items, neg_items])
    labels = np.concatenate([np.ones(users.size), np.zeros(neg_users.size)])
    return (torch.from_numpy(all_users.astype(np.int64)),
            torch.from_numpy(all_items.astype(np.int64)),
            torch.from_numpy(labels.astype(np.float32)))


def hit_ratio(model, data_dir, user_ids, item_ids, k=10):
    """HR@10 of the NCF protocol: each test user's item among its 99 negatives
    (ties counted against the test item)."""
    user_index = {raw: index for index, raw in enumerate(user_ids)}
    item_index = {raw: index for index, raw in enumerate(item_ids)}
    hits = users = 0
    model.eval()
    with torch.no_grad():
        for line in open(data_dir + "/ml-1m-implicit/ml-1m.implicit.test.negative"):
            head, *negatives = line.split()
            user, item = (int(field) for field in head.strip("()").split(","))
            candidates = [item] + [int(n) for n in negatives]
            if user not in user_index or any(c not in item_index for c in candidates):
                continue
            scores = model(torch.full((len(candidates),), user_index[user], dtype=torch.int64),
                           torch.tensor([item_index[c] for c in candidates]))
            hits += int((scores[1:] >= scores[0]).sum()) < k
            users += 1
    model.train()
    return hits / max(users, 1)


def main():
    data_dir = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    generator = np.random.default_rng(seed)
    pairs = np.loadtxt(data_dir + "/ml-1m-implicit/ml-1m.implicit.train.tsv",
                       dtype=np.int64, usecols=(0, 1))
    user_ids, users = np.unique(pairs[:, 0], return_inverse=True)
    item_ids, items = np.unique(pairs[:, 1], return_inverse=True)
    n_users, n_items = int(users.max()) + 1, item_ids.size
    seen = np.unique(users.astype(np.int64) * n_items + items)
    model = NeuMF(n_users, n_items)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_function = nn.BCEWithLogitsLoss()
    batch_size = 256
    print("PyTorch %s, NeuMF 8 factors, layers 64,32,16,8, batch 256, 4 negatives, "
          "Adam 0.001, %d threads, %d positives" % (torch.__version__, threads, users.size))
    for epoch in range(epochs):
        start = time.perf_counter()
        epoch_users, epoch_items, labels = sample_epoch(users, items, n_items, seen, 4, generator)
        order = torch.randperm(labels.numel())
        epoch_users, epoch_items, labels = epoch_users[order], epoch_items[order], labels[order]
        sampled = time.perf_counter()
        total = 0.0
        for begin in range(0, labels.numel(), batch_size):
            end = begin + batch_size
            optimizer.zero_grad()
            loss = loss_function(model(epoch_users[begin:end], epoch_items[begin:end]),
                                 labels[begin:end])
            loss.backward()
            optimizer.step()
            total += loss.item() * (min(end, labels.numel()) - begin)
        done = time.perf_counter()
        hr = hit_ratio(model, data_dir, user_ids.tolist(), item_ids.tolist())
        print("torch epoch %d: loss %.4f, sampling %.2f s, training %.2f s, %.0f samples/s, "
              "HR@10 %.4f" % (epoch + 1, total / labels.numel(), sampled - start, done - sampled,
                              labels.numel() / (done - sampled), hr), flush=True)


if __name__ == "__main__":
    main()
