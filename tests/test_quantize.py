"""Sentence vectors in eight bits read back within what ranking can tell apart."""

from __future__ import annotations

import numpy as np

from index.quantize import Int8Rows, quantized_rows


def _unit_rows(count: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_each_component_reads_back_within_half_a_step_of_its_row() -> None:
    rows = _unit_rows(200)
    stored = Int8Rows.of(rows)
    assert stored.codes.dtype == np.int8
    steps = np.abs(rows).max(axis=1) / 127
    assert (np.abs(stored[np.arange(200)] - rows) <= steps[:, None] / 2 + 1e-7).all()
    # A zero row (a passage with no sentence text) stays zero.
    assert not Int8Rows.of(np.zeros((1, 384), np.float32))[0].any()


def test_cosines_move_by_a_few_ten_thousandths_and_the_order_holds() -> None:
    rows, query = _unit_rows(5000), _unit_rows(1, seed=1)[0]
    stored = Int8Rows.of(rows)
    exact, read = rows @ query, stored @ query
    assert np.abs(exact - read).mean() < 5e-4 and np.abs(exact - read).max() < 2.5e-3
    assert np.array_equal(stored[np.arange(5000)] @ query, read) or np.allclose(
        stored[np.arange(5000)] @ query, read, atol=1e-6
    )
    top = np.argsort(-exact)[:10]
    assert set(np.argsort(-read)[:10]) == set(top)


def test_taking_rows_copies_their_codes_and_a_float_matrix_is_quantized() -> None:
    rows = _unit_rows(50)
    stored = Int8Rows.of(rows)
    picked = np.array([3, 7, 7, 49])
    taken = quantized_rows(stored, picked)
    assert np.array_equal(taken.codes, stored.codes[picked])
    assert np.array_equal(quantized_rows(rows, picked).codes, taken.codes)
    joined = Int8Rows.concatenate([stored.take(np.arange(10)), taken], 384)
    assert np.array_equal(
        joined[np.arange(14)], np.concatenate([stored[np.arange(10)], taken[np.arange(4)]])
    )
    assert len(Int8Rows.concatenate([], 384)) == 0


def test_products_over_stacked_blocks_match_the_rows_multiplied_one_by_one() -> None:
    from index.segment import Stacked, row_products

    old, new = _unit_rows(30, seed=2), Int8Rows.of(_unit_rows(20, seed=3))
    stacked = Stacked([old, new], [np.arange(0, 30, 2), None])  # a segment with dead rows
    query = _unit_rows(1, seed=4)[0]
    rows = np.array([0, 14, 15, 34, 3, 20])
    assert np.allclose(row_products(stacked, rows, query), stacked[rows] @ query, atol=1e-6)
    assert np.allclose(row_products(old, rows[:3], query), old[rows[:3]] @ query)
