"""Filters and approximate search from Python (reco/filter.h, reco/index.h)."""
import numpy as np
import pytest

import pylibreco


@pytest.fixture(scope="module")
def served():
    data = pylibreco.Dataset.synthetic(200, 300, 8000, 11)
    model = pylibreco.MF(loss="bce", factors=16).fit(data, epochs=3)
    return data, model


def seen_items(data, user):
    return set(data.items[data.users == user].tolist())


def test_exclusions_remove_only_those(served):
    data, model = served
    plain, _ = model.recommend_filtered([4], 20)
    dropped = plain[0, :3].tolist()
    filtered, _ = model.recommend_filtered([4], 10, pylibreco.Filter(model, exclude_items=dropped))
    expected = [item for item in plain[0].tolist() if item not in dropped][:10]
    assert filtered[0].tolist() == expected
    # the default leaves out the training items the model keeps
    assert not seen_items(data, 4) & set(plain[0].tolist())


def test_allow_list_and_seen_sources(served):
    data, model = served
    allowed = [3, 5, 8, 13, 21]
    items, scores = model.recommend_filtered([0, 1], 10, pylibreco.Filter(model, only_items=allowed))
    for row, user in zip(items, [0, 1]):
        kept = [item for item in row.tolist() if item >= 0]
        assert set(kept) <= set(allowed) - seen_items(data, user)
    # nothing seen is left out with seen="none": every allowed item ranks
    everything, _ = model.recommend_filtered(
        [0], 10, pylibreco.Filter(model, only_items=allowed, seen="none"))
    assert sorted(everything[0][everything[0] >= 0].tolist()) == allowed
    assert np.isnan(scores[0, len(allowed):]).all()


def test_genres_from_a_titles_file(served, tmp_path):
    data, model = served
    path = tmp_path / "movies.dat"
    # ids 1..300 (the synthetic set's): every third a comedy, every fifth a drama
    lines = []
    for movie in range(1, 301):
        genres = [name for name, every in (("Comedy", 3), ("Drama", 5)) if movie % every == 0]
        lines.append(f"{movie}::Movie {movie} (2000)::{'|'.join(genres) or 'Horror'}")
    path.write_text("\n".join(lines) + "\n")
    tags = pylibreco.ItemTags.read(model, path)
    assert set(tags.names) == {"Comedy", "Drama", "Horror"}
    items, _ = model.recommend_filtered(
        [2], 10, pylibreco.Filter(model, tags=tags, genres=["Comedy"], not_genres=["Drama"]))
    for item in items[0][items[0] >= 0].tolist():
        movie = model.item_id(item)
        assert movie % 3 == 0 and movie % 5 != 0
        assert tags.has(item, "Comedy") and not tags.has(item, "Drama")
    with pytest.raises(pylibreco.InvalidArgument):
        pylibreco.Filter(model, tags=tags, genres=["Western"])
    with pytest.raises(ValueError, match="need tags"):
        pylibreco.Filter(model, genres=["Comedy"])


def test_approximate_finds_the_exact_top(served, tmp_path):
    data, model = served
    users = np.arange(50)
    exact, _ = model.recommend_filtered(users, 10)
    index = pylibreco.Index.build(model, m=16, ef_construction=200)
    approximate, _ = model.recommend_approximate(users, 10, index, ef=300)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approximate, exact)])
    assert recall >= 0.95
    index.save(tmp_path / "items.hnsw")
    again, _ = model.recommend_approximate(users, 10, pylibreco.Index.load(model, tmp_path / "items.hnsw"), ef=300)
    assert (again == approximate).all()
    with pytest.raises(pylibreco.RecoError):
        pylibreco.Index.build(pylibreco.EASE().fit(data))
