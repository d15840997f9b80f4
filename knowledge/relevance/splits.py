"""Split each dataset's units (products, or queries) into train, calibrate and report parts by a stable hash."""

import hashlib

PARTS = ("train", "calibrate", "report")
BOUNDS = (0.6, 0.8)  # 60 % train, 20 % calibrate the threshold, 20 % report the metrics


def unit_part(dataset: str, unit: str, seed: int) -> str:
    """The part a unit falls in: the same on every machine and run for the same seed."""
    digest = hashlib.sha256(f"{seed}:{dataset}:{unit}".encode()).digest()
    share = int.from_bytes(digest[:8], "big") / 2**64
    return PARTS[sum(share >= bound for bound in BOUNDS)]


def split_units(dataset: str, unit_field: str, units: list[str], seed: int) -> dict:
    """`{"unit": field, "train": [...], "calibrate": [...], "report": [...]}`, ids sorted."""
    split: dict = {"unit": unit_field, **{part: [] for part in PARTS}}
    for unit in sorted(units):
        split[unit_part(dataset, unit, seed)].append(unit)
    return split
