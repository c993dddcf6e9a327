"""The query adapter's file: plain arrays only, checked on load, applied only to the model it was trained on."""

from __future__ import annotations

import numpy as np
import pytest

from bot.query_adapter import AdapterError, QueryAdapter


def test_it_maps_and_normalises():
    adapter = QueryAdapter(np.array([[2.0, 0.0], [0.0, 1.0]], np.float32), "m")
    out = adapter(np.array([0.6, 0.8], np.float32))
    assert out.dtype == np.float32 and np.linalg.norm(out) == pytest.approx(1.0)
    assert out[0] / out[1] == pytest.approx(1.5)


def test_save_and_load_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    adapter = QueryAdapter(rng.normal(size=(4, 4)).astype(np.float32), "abc123")
    adapter.save(tmp_path / "a.npz")
    loaded = QueryAdapter.load(tmp_path / "a.npz")
    np.testing.assert_array_equal(loaded.matrix, adapter.matrix)
    assert loaded.model == "abc123" and loaded.digest() == adapter.digest()


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_a_corrupt_file_is_one_line_without_its_folder(tmp_path, content):
    path = tmp_path / "secret-folder" / "a.npz"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(AdapterError) as err:
        QueryAdapter.load(path)
    assert "\n" not in str(err.value) and "secret-folder" not in str(err.value) and "a.npz" in str(err.value)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "a.npz"
    with path.open("wb") as fh:
        np.savez(fh, matrix=np.array([object()], dtype=object), model=np.array("m"))
    with pytest.raises(AdapterError):
        QueryAdapter.load(path)


@pytest.mark.parametrize("matrix", [np.ones((2, 3)), np.full((2, 2), np.nan), np.ones(4)])
def test_anything_but_a_finite_square_matrix_is_refused(tmp_path, matrix):
    path = tmp_path / "a.npz"
    with path.open("wb") as fh:
        np.savez(fh, matrix=matrix.astype(np.float32), model=np.array("m"))
    with pytest.raises(AdapterError):
        QueryAdapter.load(path)


def test_it_applies_only_to_the_model_and_dimension_it_was_trained_on(tmp_path):
    path = tmp_path / "a.npz"
    assert QueryAdapter.for_model("m", 3, path) is None  # none shipped: e5 as it is
    QueryAdapter(np.eye(3, dtype=np.float32), "m").save(path)
    assert QueryAdapter.for_model("m", 3, path) is not None
    assert QueryAdapter.for_model("other", 3, path) is None
    assert QueryAdapter.for_model("m", 4, path) is None


def test_the_shipped_adapter_fits_the_shipped_model(embedder):
    from bot.query_adapter import DEFAULT_ADAPTER

    adapter = QueryAdapter.for_model(embedder.fingerprint(), embedder.dimension)
    assert adapter is not None, f"{DEFAULT_ADAPTER.name} missing or trained on another model: run `gocluster-faq train`"
    assert np.abs(adapter.matrix - np.eye(embedder.dimension)).max() > 1e-3, "it was trained, not left at identity"
