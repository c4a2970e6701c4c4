import os
import re
import subprocess

import pytest

import libreco


def test_hr_equals_the_c_examples(ncf_split):
    """examples/ncf --seed000 (C) and the same job from Python give the same HR@10."""
    program = os.environ.get("RECO_NCF_EXAMPLE")
    if not program:
        pytest.skip("RECO_NCF_EXAMPLE not set (examples not built)")
    output = subprocess.run([program, "--seed000"], check=True, capture_output=True, text=True).stdout
    c_hr = [float(value) for value in re.findall(r"epoch 5 +HR@10 ([0-9.]+)", output)]
    assert c_hr, output
    data, train, test = ncf_split
    model = libreco.NeuMF(init_seed=42, factors=32, output="sigmoid",
                          fixed_negatives=True).fit(train, epochs=5)
    assert round(model.evaluate_sampled(test)["hr"], 4) == c_hr[0]
