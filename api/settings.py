"""Every setting of parallax, from `PARALLAX_*` environment variables or CLI flags."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, Literal, get_type_hints

from pydantic import Field, SecretStr, create_model, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.embed import (
    EmbedderKind,
    EmbedderOptions,
    IngestEncoder,
    QueryEncoder,
    SentenceVectors,
)
from index.encoder import Precision
from index.fetch import FetchOptions
from index.merge import MergePolicy
from index.stories import StoryOptions
from search.timeline import SAME_TIME_HOURS


def _story_settings() -> dict[str, Any]:
    """A `story_<name>` setting for each field of `StoryOptions`, with its type, default,
    help and bounds: the story options are declared once, in index/stories.py."""
    types = get_type_hints(StoryOptions)
    return {
        f"story_{f.name}": (
            types[f.name],
            Field(f.default, description=f.metadata["help"], **f.metadata["bounds"]),
        )
        for f in fields(StoryOptions)
    }


# The settings' base: the story matcher's options as settings. Settings below declares
# the rest; pydantic orders the fields base first.
_StorySettings: type[BaseSettings] = create_model(
    "_StorySettings", __base__=BaseSettings, **_story_settings()
)


class Settings(_StorySettings):  # type: ignore[misc,valid-type]
    """One object for the whole service; docs/settings.md lists each field (generated from
    it at build time; a test checks that each has a help line and a row)."""

    model_config = SettingsConfigDict(env_prefix="PARALLAX_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address the API binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")
    data_dir: Path = Field(Path("data"), description="Where the index is stored.")
    seeds_dir: Path = Field(
        Path("seeds"), description="Articles indexed on first start when the data dir is empty."
    )
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="Sentence-transformers model: the packaged name or a local folder.",
    )
    embedder: EmbedderKind = Field(
        "model", description="'model' for real embeddings; 'hashing' is a fast stand-in for tests."
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Texts per encoder batch.")
    chunk_tokens: int = Field(
        192, ge=16, le=254, description="Largest passage, in model tokens (model limit 256)."
    )
    chunk_overlap: int = Field(
        0, ge=0, le=5, description="Sentences shared by consecutive passages."
    )
    api_key: SecretStr | None = Field(
        None, description="Bearer key for POST/DELETE /documents; writes are refused without it."
    )
    default_k: int = Field(10, ge=1, description="Hits returned when a search gives no k.")
    max_k: int = Field(100, ge=1, description="Largest k a search may ask for.")
    per_source: int = Field(2, ge=1, description="Hits per source group when a search gives none.")
    max_sources: int = Field(
        50, ge=1, description="Source groups a search returns when it gives no max_sources."
    )
    max_sources_limit: int = Field(
        1000, ge=1, description="Largest max_sources a search may ask for."
    )
    max_query_chars: int = Field(1000, ge=1, description="Longest accepted query, in characters.")
    max_batch_documents: int = Field(
        1000, ge=1, description="Most documents accepted in one POST /documents."
    )
    search_depth: int = Field(
        200, ge=10, description="Candidates each retriever gives before fusion and grouping."
    )
    min_similarity: float = Field(
        0.2, ge=-1, le=1, description="Dense hits below this cosine similarity are dropped."
    )
    max_body_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Largest request body; bigger ones get 413."
    )
    max_in_flight: int = Field(
        16, ge=1, description="Requests served at once; more get 503 (health, metrics exempt)."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        [], description="Origins allowed to call the API from a browser, comma-separated."
    )
    query_encoder: QueryEncoder = Field(
        "onnx",
        description="Encoder for queries: onnx (fast start, torch only for its export) or torch.",
    )
    ingest_encoder: IngestEncoder = Field(
        "openvino",
        description="Ingest encoder: openvino (about 3x faster) or torch (sentence-transformers).",
    )
    sentence_vectors: SentenceVectors = Field(
        "pooled",
        description="Sentence vectors: pooled from the passage pass (openvino) or encoded alone.",
    )
    precision: Precision = Field(
        "auto",
        description="Encoder precision; auto is bf16 where the CPU has native bf16 and a "
        "probe finds it faster than fp32, else fp32.",
    )
    write_niceness: int = Field(
        10,
        ge=0,
        le=19,
        description="How much lower than searches the server's writes and merges run "
        "(Linux nice; 0: the same): searches keep their speed while documents stream in.",
    )
    merge_factor: int = Field(
        10, ge=2, description="Neighbouring segments of one size level merged at once."
    )
    merge_floor: int = Field(
        1000, ge=1, description="Live passages under which a segment is of the smallest level."
    )
    threads: int = Field(0, ge=0, description="Threads for the encoder (0: one per CPU core).")
    fetch_timeout: float = Field(
        FetchOptions.timeout,
        gt=0,
        description="Seconds `ingest` waits to connect to a feed or page, and for each read.",
    )
    fetch_max_bytes: int = Field(
        FetchOptions.max_bytes,
        ge=1024,
        description="Largest feed, page or WARC record `ingest` reads; a bigger one is refused.",
    )
    fetch_user_agent: str | None = Field(
        None,
        description="User-Agent of `ingest`'s requests (unset: parallax/VERSION); add a contact.",
    )
    min_confidence: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Answers less confident than this are listed as not answering (0: every "
        "answer is shown; search/calibration.json gives the thresholds of 0.7-0.9 precision).",
    )
    min_compared_confidence: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Answers less confident than this are shown but not compared: they raise "
        "no conflict (0: every typed answer about the question is compared).",
    )
    same_time_hours: float = Field(
        SAME_TIME_HOURS,
        gt=0,
        description="Reports within this many hours are at about the same time: differing "
        "figures then are disputed, not revised.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Server log level."
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # "https://a.example, https://b.example" from a flag or an environment variable.
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    def embedder_options(self, cache: Path | None) -> EmbedderOptions:
        """The embedder's options (index/embed.py) from the settings; its ONNX export is
        kept in `cache` (None: sentence-transformers does everything)."""
        return EmbedderOptions(
            kind=self.embedder,
            model=self.model,
            batch_size=self.batch_size,
            threads=self.threads,
            precision=self.precision,
            cache=cache,
            query=self.query_encoder,
            ingest=self.ingest_encoder,
            sentences=self.sentence_vectors,
        )

    def reader_options(self) -> Any:
        """The reader's options (search/answers.py `ReaderOptions`) the settings change."""
        from dataclasses import replace

        from search.document_reader import READER

        return replace(
            READER,
            min_confidence=self.min_confidence,
            min_compared_confidence=self.min_compared_confidence,
            same_time_hours=self.same_time_hours,
        )

    def fetch_options(self) -> FetchOptions:
        """How `parallax ingest` fetches feeds and pages (index/fetch.py)."""
        return FetchOptions(
            timeout=self.fetch_timeout,
            max_bytes=self.fetch_max_bytes,
            user_agent=self.fetch_user_agent,
        )

    def merge_policy(self) -> MergePolicy:
        """How the server merges segments (index/merge.py) from the merge_* settings."""
        return MergePolicy(factor=self.merge_factor, floor=self.merge_floor)

    def story_options(self) -> StoryOptions:
        """The story matcher's options (index/stories.py) from the story_* settings."""
        return StoryOptions(
            **{f.name: getattr(self, f"story_{f.name}") for f in fields(StoryOptions)}
        )

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        """Where the exported ONNX encoder is cached."""
        return self.data_dir / "models"
