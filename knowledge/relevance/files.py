"""Where a relevance model's files live: the folder layout every trained version shares."""

import json
from pathlib import Path

from django.conf import settings

META_FILE = "meta.json"  # everything the registry row holds, so another machine can register the folder
ONNX_FILE = "model-int8.onnx"  # what the scorer runs
REQUIRED_FILES = (META_FILE, ONNX_FILE, "tokenizer.json")


def resolve_path(path: str | Path) -> Path:
    """A model folder as stored (absolute, or relative to BASE_DIR) made absolute."""
    path = Path(path)
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def stored_path(path: Path) -> str:
    """How a folder is stored on the row: relative to BASE_DIR when inside it, else absolute."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(path)


def model_dir(name: str, version: int) -> Path:
    """The folder a new version is written to: RELEVANCE_MODELS_DIR/NAME-vN."""
    return Path(settings.RELEVANCE_MODELS_DIR) / f"{name}-v{version}"


def meta_write(folder: Path, meta: dict) -> None:
    """Write meta.json last, so a folder with one is complete."""
    partial = folder / f"{META_FILE}.partial"
    partial.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    partial.replace(folder / META_FILE)
