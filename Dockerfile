# The CPU image of videobot: the bot, its workers and the embedded demo model, in one image.
#   docker build -t videobot .
#   docker run -it -v videobot-data:/data videobot            # the console chat
#   docker compose up -d                                      # bot, worker, PostgreSQL
# The CUDA image (a GPU host with the NVIDIA container toolkit; run with --gpus all):
#   docker build --build-arg TORCH_BUILD=cuda -t videobot:cuda .
# Installs torch as the Makefile does (scripts/install-torch.sh), then videobot itself.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

# auto: the CPU build here (a build sees no GPU); cuda: the CUDA build of the same release.
ARG TORCH_BUILD=auto
ARG TORCH=torch==2.13.0
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1

WORKDIR /opt/videobot
COPY scripts/install-torch.sh scripts/
RUN python3 -m venv /opt/venv \
    && TORCH_BUILD=${TORCH_BUILD} scripts/install-torch.sh /opt/venv/bin/pip /opt/venv/bin/python "${TORCH}"
COPY pyproject.toml README.md ./
COPY videobot videobot
COPY bot bot
COPY generator generator
COPY storage storage
COPY migrations migrations
RUN /opt/venv/bin/pip install --quiet ".[worker]" \
    && useradd --system --create-home --home-dir /home/videobot videobot \
    && mkdir /data && chown videobot /data

ENV PATH=/opt/venv/bin:${PATH}
USER videobot
# The data folder: the SQLite database (without PostgreSQL), clips, logs, built models.
VOLUME /data
ENTRYPOINT ["videobot", "--data-dir", "/data"]
CMD ["run"]
