"""Synthetic multi-agency data for tuning and testing record linkage.

``generate(people, seed=...)`` draws a population with realistic name
frequencies, households, twins, juniors/seniors, moves and surname changes,
and writes each person's contacts with police CAD, behavioural health and
homeless services (optionally EMS) in the canonical input layout, keyed in
with each agency's error habits. The truth maps every record to its person.
``python -m tools.synthetic`` writes data sets to disk.
"""

from tools.synthetic.generator import SyntheticDataset, generate, iter_chunks
from tools.synthetic.person import Person
from tools.synthetic.profiles import (
    CANONICAL_COLUMNS,
    DEFAULT_AGENCIES,
    PROFILES,
    AgencyProfile,
)
from tools.synthetic.writer import write_dataset, write_large

__all__ = [
    "CANONICAL_COLUMNS",
    "DEFAULT_AGENCIES",
    "PROFILES",
    "AgencyProfile",
    "Person",
    "SyntheticDataset",
    "generate",
    "iter_chunks",
    "write_dataset",
    "write_large",
]
