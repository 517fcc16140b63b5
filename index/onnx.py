"""A torch-free encoder: the same model exported to ONNX, run by ONNX Runtime.

Queries are one short text each; torch spends more on dispatch than on the
math there, and importing it costs seconds at start. The exported graph (mean
pooling and normalisation included) gives vectors with a cosine of 1.0 to
sentence-transformers' fp32 output, at a fraction of the per-query time.

The export needs torch once (`export_onnx`); the file is cached beside the
index and reused, so later starts import neither torch nor transformers.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embed import resolve_model_path

EXPORT_VERSION = 2


def model_fingerprint(model_dir: Path) -> str:
    """Identifies the weights and tokenizer an export was made from."""
    digest = hashlib.sha256(f"export-{EXPORT_VERSION}".encode())
    for name in ("config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin"):
        path = model_dir / name
        if path.is_file():
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}".encode())
            with path.open("rb") as handle:
                digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:16]


def export_onnx(model_dir: Path, target: Path) -> Path:
    """Export the transformer with mean pooling and L2 normalisation to `target` (atomically)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            # The token states too: ingest pools them per sentence (index/openvino.py).
            return torch.nn.functional.normalize(pooled, p=2, dim=1), hidden

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = torch.ones(2, 8, dtype=torch.long)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".tmp")
    with warnings.catch_warnings():
        # Tracing warns about Python-side shape checks it cannot record; the exported
        # graph is checked against sentence-transformers by the tests.
        warnings.simplefilter("ignore")
        _export(torch, Pooled(), example, names, partial)
    os.replace(partial, target)
    return target


def _export(torch: Any, module: Any, example: Any, names: list[str], partial: Path) -> None:
    torch.onnx.export(
        module,
        (example, example, torch.zeros_like(example)),
        str(partial),
        input_names=names,
        output_names=["embedding", "token_states"],
        dynamic_axes={
            **{n: {0: "batch", 1: "tokens"} for n in names + ["token_states"]},
            "embedding": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )


def exported_model(model: str, cache_dir: Path) -> tuple[Path, Path]:
    """The model's folder and its ONNX export in `cache_dir` (exported on first use)."""
    model_dir = resolve_model_path(model)
    path = cache_dir / f"encoder-{model_fingerprint(model_dir)}.onnx"
    if not path.is_file():
        export_onnx(model_dir, path)
    return model_dir, path


def quantized(path: Path) -> Path:
    """The export with int8 weights (dynamic, per channel), made once beside it.

    Lossy (cosine about 0.99 to fp32): measured by `parallax bench`, never a default.
    """
    target = path.with_name(path.stem + "-int8.onnx")
    if not target.is_file():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        partial = target.with_name(target.name + ".tmp")
        quantize_dynamic(str(path), str(partial), per_channel=True, weight_type=QuantType.QInt8)
        os.replace(partial, target)
    return target


def padded_batch(encodings: Sequence[Any]) -> dict[str, np.ndarray]:
    """Model inputs for tokenizer encodings, padded to the batch's longest."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, encoding in enumerate(encodings):
        ids[row, : len(encoding.ids)] = encoding.ids
        mask[row, : len(encoding.ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


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


def max_seq_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


class ServiceEmbedder:
    """Queries through ONNX Runtime, batches (ingest) through a heavier encoder.

    The batch encoder (OpenVINO or sentence-transformers) loads on the first
    batch, so a server that only answers queries never loads it. Both give the
    same vectors (cosine >= 0.9999 to sentence-transformers fp32).
    """

    def __init__(self, query: Any, make_batch: Any, batch_threshold: int = 8) -> None:
        self.query = query
        self._make_batch = make_batch
        self._batch: Any = None
        self.batch_threshold = batch_threshold
        self.name, self.dim, self.max_tokens = query.name, query.dim, query.max_tokens

    @property
    def batch(self) -> Any:
        """The batch encoder, loaded on first use."""
        if self._batch is None:
            self._batch = self._make_batch()
        return self._batch

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if len(texts) <= self.batch_threshold:
            return self.query.encode(texts)
        return self.batch.encode(texts, progress=progress)  # type: ignore[no-any-return]

    def encode_passages(
        self, passages: Sequence[Any], *, progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        from index.embed import embed_passages

        return embed_passages(self.batch, passages, progress=progress)

    def count_tokens(self, text: str) -> int:
        return self.query.count_tokens(text)
