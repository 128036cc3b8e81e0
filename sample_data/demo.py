"""Generate and load the synthetic demonstration data, source by source.

``python -m sample_data.demo generate`` rewrites ``sample_data/files/`` from the fixed seed; loading
reuses the product's own import functions, so running it twice adds nothing.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

from observatoire.sources import SOURCES

log = logging.getLogger(__name__)

FILES = Path(__file__).resolve().parent / "files"
SEED = 4112
DEMO_USER = "demo"
# In the order of the table of sources: territories and populations before the sources counted in them.
MODULES = [s.demo for s in SOURCES if s.demo]


def _modules():
    for path in MODULES:
        yield path.rpartition(".")[2], importlib.import_module(path)


def generate(out_dir: Path = FILES, seed: int = SEED) -> None:
    for name, module in _modules():
        module.generate(out_dir, seed)
        log.info("données fictives générées : %s", name)


def load(engine, out_dir: Path = FILES) -> list[str]:
    loaded = []
    for name, module in _modules():
        module.load(engine, out_dir, DEMO_USER)
        loaded.append(name)
    return loaded


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    if sys.argv[1:] == ["generate"]:
        generate()
    else:
        print("usage : python -m sample_data.demo generate")
