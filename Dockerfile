# Lisa app image: the HTTP/WebSocket app with the embedded models (no downloads at run time).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY agent ./agent
COPY api ./api
COPY pipelines ./pipelines
COPY telephony ./telephony
COPY simulation ./simulation
COPY prompts ./prompts
COPY supabase ./supabase
# editable install: prompts/ and the business profile are read next to the packages
RUN pip install -e . \
    && useradd --system --uid 1000 --home /app lisa \
    && mkdir -p /app/lisa-data \
    && chown lisa /app/lisa-data

USER lisa
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=4)"
CMD ["sh", "-c", "exec lisa serve --host \"$HOST\" --port \"$PORT\""]
