"""tests/bench/implicit_program.py, a program written for implicit 0.7 with
only its imports changed, on a small synthetic file in ml-100k's layout (the
benchmark runs it on ml-100k itself)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import pylibreco

pytest.importorskip("scipy")
PROGRAM = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "bench",
                       "implicit_program.py")


def test_the_implicit_program_runs_unchanged(tmp_path):
    data = pylibreco.Dataset.synthetic(300, 400, 9000, seed=26)
    path = tmp_path / "u.data"
    rows = np.column_stack([[data.user_id(u) for u in data.users],
                            [data.item_id(i) for i in data.items],
                            data.ratings.astype(int), data.timestamps])
    np.savetxt(path, rows, fmt="%d", delimiter="\t")
    done = subprocess.run([sys.executable, PROGRAM, str(path)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("AlternatingLeastSquares", "BayesianPersonalizedRanking", "BM25Recommender",
                 "CosineRecommender"):
        assert f"{name}: fit" in done.stdout


def test_the_program_skips_without_data(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k != "RECO_DATA_DIR"}
    done = subprocess.run([sys.executable, PROGRAM], capture_output=True, text=True,
                          env=environment, timeout=60)
    assert done.returncode == 77 and "skipped" in done.stdout
