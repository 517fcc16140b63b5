"""bm25s's BM25 with its score matrix built by array operations.

bm25s builds the matrix of BM25 scores in a Python loop over documents (a
`Counter` per passage, then a dict walk for document frequencies): 1.2 s for
28k passages. Every write builds a new snapshot's index over all of its
passages, so a one-document write to that index spent most of its time there.
bm25s documents `build_index_from_ids` as the method to override to build the
index another way; this override builds the same matrix (Lucene BM25, bm25s's
default) with numpy, and `tests/test_bm25.py` checks it against bm25s's own.
Retrieval, saving and loading are bm25s's.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import bm25s
import numpy as np


class BM25(bm25s.BM25):
    def build_index_from_ids(
        self,
        unique_token_ids: list[int],
        corpus_token_ids: list[list[int]],
        show_progress: bool = True,
        leave_progress: bool = False,
    ) -> dict[str, Any]:
        if self.method != "lucene" or self.idf_method != "lucene":
            return super().build_index_from_ids(  # type: ignore[no-any-return]
                unique_token_ids, corpus_token_ids, show_progress, leave_progress
            )
        self.nonoccurrence_array = None  # only BM25L and BM25+ use it
        n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
        lengths = np.fromiter(map(len, corpus_token_ids), dtype=np.int64, count=n_docs)
        tokens = np.fromiter(
            chain.from_iterable(corpus_token_ids), dtype=np.int64, count=int(lengths.sum())
        )
        docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        # One entry per (token, document) pair with its count, in the matrix's
        # compressed-column order: by token, then by document.
        pairs, counts = np.unique(tokens * n_docs + docs, return_counts=True)
        token_of, doc_of = np.divmod(pairs, n_docs)
        doc_freqs = np.bincount(token_of, minlength=n_vocab)
        idf = np.log(1 + (n_docs - doc_freqs + 0.5) / (doc_freqs + 0.5)).astype(self.dtype)
        tf = counts.astype(self.dtype)
        norm = self.k1 * ((1 - self.b) + self.b * lengths[doc_of] / lengths.mean())
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(doc_freqs, out=indptr[1:])
        return {
            "data": (idf[token_of] * (tf / (norm + tf))).astype(self.dtype),
            "indices": doc_of.astype(self.int_dtype),
            "indptr": indptr,
            "num_docs": n_docs,
        }
