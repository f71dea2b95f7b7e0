#!/usr/bin/env bash
# Install the torch release videobot pins, as the build that suits this host, and say which:
# - an NVIDIA GPU (nvidia-smi lists one): the default index's build, which is the CUDA one;
# - no NVIDIA GPU: the CPU build from PyTorch's CPU index (hundreds of MB instead of the
#   gigabytes of the CUDA build); if that index cannot be reached within a short timeout, the
#   default index's build, so that an offline mirror or a configured pip still works.
# Usage: scripts/install-torch.sh PIP PYTHON [REQUIREMENT]   (the Makefile and Dockerfile)
set -euo pipefail

PIP=${1:?usage: install-torch.sh PIP PYTHON [REQUIREMENT]}
PYTHON=${2:?usage: install-torch.sh PIP PYTHON [REQUIREMENT]}
TORCH=${3:-torch==2.13.0}
CPU_INDEX=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
# Seconds pip waits on the CPU index before it gives up on it.
INDEX_TIMEOUT=${TORCH_INDEX_TIMEOUT:-15}
# auto (by the host's GPU), cpu or cuda: an image build sees no GPU, so the CUDA image says so.
BUILD=${TORCH_BUILD:-auto}

has_nvidia_gpu() {
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1
}

case "$BUILD" in
    cuda) why="TORCH_BUILD=cuda" ;;
    cpu) why="TORCH_BUILD=cpu" ;;
    auto) if has_nvidia_gpu; then why="an NVIDIA GPU is present"; BUILD=cuda
          else why="no NVIDIA GPU found"; BUILD=cpu; fi ;;
    *) echo "torch: TORCH_BUILD must be auto, cpu or cuda, not $BUILD" >&2; exit 2 ;;
esac

if [ "$BUILD" = cuda ]; then
    echo "torch: $why: installing the CUDA build of $TORCH (default index)"
    "$PIP" install --quiet "$TORCH"
else
    echo "torch: $why: installing the CPU build of $TORCH from $CPU_INDEX"
    if ! "$PIP" install --quiet --timeout "$INDEX_TIMEOUT" --retries 0 \
            --index-url "$CPU_INDEX" "$TORCH"; then
        echo "torch: $CPU_INDEX could not be used; installing $TORCH from the default index"
        "$PIP" install --quiet "$TORCH"
    fi
fi
# (-W ignore: torch warns when numpy is not installed yet.)
"$PYTHON" -W ignore - <<'PY'
import torch

cuda = torch.version.cuda
build = f"the CUDA {cuda} build" if cuda else "the CPU build"
print(f"torch: installed {torch.__version__}, {build}")
PY
