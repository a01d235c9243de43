"""Synthetic multi-agency data for tuning and testing record linkage.

``generate(people, seed=...)`` draws a population with realistic name
frequencies, households, twins, juniors/seniors, moves and surname changes,
and writes each person's contacts with police CAD, behavioural health and
homeless services (optionally EMS) in the canonical input layout, keyed in
with each agency's error habits. The truth maps every record to its person.
``python -m linkage.synthetic`` writes data sets to disk.
"""

from linkage.synthetic.generator import SyntheticDataset, generate, iter_chunks
from linkage.synthetic.person import Person
from linkage.synthetic.profiles import (
    CANONICAL_COLUMNS,
    DEFAULT_AGENCIES,
    PROFILES,
    AgencyProfile,
)
from linkage.synthetic.writer import write_dataset, write_large

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
