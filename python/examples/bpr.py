"""Seed 004's job: BPR-MF on ml-latest-small, ratings >= 4 as positives, an
80/10/10 split, 32 factors, Adam 1e-3 with weight decay 1e-6, batch 1024,
Recall, Precision and NDCG @20 over all items with training items left out,
then one user's suggestions with titles (see ../shared/PROTOCOLS.md, seed 004).

Usage: python3 bpr.py [ratings.csv movies.csv] [epochs]   (no files: synthetic)
"""
import sys

import pylibreco

ratings = sys.argv[1] if len(sys.argv) > 2 else None
movies = sys.argv[2] if len(sys.argv) > 2 else None
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 100
rated = pylibreco.Dataset.read(ratings) if ratings else pylibreco.Dataset.synthetic(610, 2000, 50000, 4)
if movies:
    rated.read_titles(movies)
positives = rated.binarize(4)
train, valid, test = positives.split_three_way(0.1, 0.1, seed=1)
model = pylibreco.BPRMF(factors=32, optimizer="adam", learning_rate=1e-3, weight_decay=1e-6,
                      batch_size=1024, init_seed=1)
model.fit(train, epochs=epochs, valid=valid, exclude=train, metric="recall", k=20)
epoch, best = model.best_validation
print(f"BPR-MF on {len(positives)} positives: best validation Recall@20 {best:.4f} "
      f"at epoch {epoch + 1}")
scores = model.evaluate_ranking(test, exclude=train, k=20)
print(f"test: Recall@20 {scores['recall']:.5f}  Precision@20 {scores['precision']:.5f}  "
      f"NDCG@20 {scores['ndcg']:.5f}")
user = int(positives.users[0])
items, _ = model.recommend(user, k=10, exclude=positives)
print(f"suggestions for user {positives.user_id(user)}:")
for item in items:
    print(f"    {positives.item_id(item):<8} {positives.item_title(item) or ''}")
