"""A torch-free encoder: the same model exported to ONNX, run by ONNX Runtime.

Queries are one short text each; torch spends more on dispatch than on the
math there, and importing it costs seconds at start. The exported graph (mean
pooling and normalisation included) gives vectors with a cosine of 1.0 to
sentence-transformers' fp32 output, at a fraction of the per-query time.

The export needs torch once (`index.encoder.export_onnx`); the file is cached beside
the index and reused, so later starts import neither torch nor transformers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.encoder import exported_model, max_seq_length, padded_batch, quantized


class OnnxEmbedder:
    """Encodes with ONNX Runtime and the model's own fast tokenizer; no torch import."""

    def __init__(
        self, model: str, cache_dir: Path, threads: int = 1, weights: str = "fp32"
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        model_dir, path = exported_model(model, cache_dir)
        self.cache_dir = cache_dir
        if weights == "int8":
            path = quantized(path)
        self.name = model
        config = json.loads((model_dir / "config.json").read_text())
        self.dim = int(config["hidden_size"])
        self.max_tokens = max_seq_length(model_dir)
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # The packaged tokenizer pads every input to 128 tokens; pad per batch instead.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_tokens)
        # Counting must see past the truncation point, so it gets its own copy.
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        # Spinning intra-op threads stole the CPU from FAISS in the same process.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        inputs = padded_batch(self._tokenizer.encode_batch(list(texts)))
        (vectors,) = self._session.run(["embedding"], inputs)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """`count_tokens` of each text, in one call of the tokenizer."""
        encodings = self._counter.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encodings]
