# syntax=docker/dockerfile:1
#
# One image for the API, the migrations and the Celery worker; each container
# of docker-compose.yml picks its process with `command`. The GPU worker's
# image is the same build with CuPy and the CUDA 12 libraries added:
#
#   docker build -t descent-cpu .
#   docker build --build-arg DEVICE=gpu -t descent-gpu .

ARG PYTHON_VERSION=3.12

# --- builder: a virtual environment holding the dependencies only -----------
FROM python:${PYTHON_VERSION}-slim AS builder

ARG DEVICE=cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /build
# Only pyproject.toml reaches this stage, so editing the code reuses the cached
# dependency layer; the CUDA wheels of the GPU image are about 3 GB.
COPY pyproject.toml ./

# The requirements are read from pyproject.toml so the image installs exactly
# what `pip install .` (or `.[gpu]`) would. The [gpu] extra names CuPy alone;
# its [ctk] extra adds the CUDA runtime libraries as wheels, so a slim base
# image serves the GPU worker and the host needs only the NVIDIA driver and
# the NVIDIA Container Toolkit.
RUN python - "$DEVICE" > requirements.txt <<'PY'
import sys
import tomllib

device = sys.argv[1]
if device not in ("cpu", "gpu"):
    sys.exit(f"DEVICE is {device!r}; build with --build-arg DEVICE=cpu or DEVICE=gpu")
with open("pyproject.toml", "rb") as file:
    project = tomllib.load(file)["project"]
requirements = list(project["dependencies"])
if device == "gpu":
    requirements += project["optional-dependencies"]["gpu"]
    requirements.append("cupy-cuda12x[ctk]")
print("\n".join(requirements))
PY

RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --requirement requirements.txt

# --- runtime: the venv, the code and the migrations, run as a non-root user ---
FROM python:${PYTHON_VERSION}-slim AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# A home directory, because CuPy keeps its compiled kernels under ~/.cupy.
RUN groupadd --system --gid 10001 descent \
    && useradd --system --uid 10001 --gid descent --create-home \
        --home-dir /home/descent --shell /usr/sbin/nologin descent

COPY --from=builder /opt/venv /opt/venv

# The code runs from /app rather than from an installed wheel because
# persistence/migrate.py finds alembic.ini and migrations/ beside the packages.
WORKDIR /app
COPY alembic.ini ./
COPY migrations/ migrations/
COPY persistence/ persistence/
COPY core/ core/
COPY api/ api/
COPY worker/ worker/
RUN python -m compileall -q /app

# Numeric, so a runtime that checks runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001

EXPOSE 8000
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]
