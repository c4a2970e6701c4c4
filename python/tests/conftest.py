import os

import pytest

import pylibreco


@pytest.fixture(scope="session")
def fixtures():
    """The C suites' hand-written fixture files."""
    return os.environ.get("RECO_FIXTURES",
                          os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures"))


@pytest.fixture(scope="session")
def ncf_split():
    """The C example's NCF setup (seed 000): synthetic data, leave-one-out, 100 test
    negatives."""
    data = pylibreco.Dataset.synthetic(943, 1682, 100000, 42)
    train, test = data.split_leave_one_out()
    test.sample_test_negatives(data, 100, seed=42)
    return data, train, test


@pytest.fixture(scope="session")
def trained(ncf_split):
    data, train, test = ncf_split
    return pylibreco.NeuMF().fit(train, epochs=1)
