# CPU image: serves the API on the seed articles (index built on first start).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    PARALLAX_HOST=0.0.0.0 \
    PARALLAX_PORT=8000 \
    PARALLAX_DATA_DIR=/data \
    PARALLAX_SEEDS_DIR=/app/seeds

WORKDIR /app

# Dependencies in their own layer, rebuilt only when pyproject.toml changes: the package
# alone, without extras, as `make serve` installs it (serving needs none of them).
# Pass --build-arg PIP_EXTRA_INDEX_URL=<a CPU torch wheel index> to keep CUDA wheels out.
ARG PIP_EXTRA_INDEX_URL=""
COPY pyproject.toml README.md ./
RUN mkdir index search api \
    && touch index/__init__.py search/__init__.py api/__init__.py \
    && pip install . \
    && pip uninstall --yes parallax

COPY index ./index
COPY search ./search
COPY api ./api
COPY seeds ./seeds
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 parallax \
    && mkdir /data \
    && chown 10001 /data

USER 10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
CMD ["parallax", "serve"]
