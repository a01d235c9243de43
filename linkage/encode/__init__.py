"""The agency side: normalisation, keys, hardened Bloom filters, keyed tokens, whole files.

Only agencies (and their gateways) hold the linkage secret
(:class:`LinkageSecret`); the hub never imports this package, which an
import contract checks. :class:`RecordEncoder` turns one row of plaintext into an
:class:`~linkage.records.EncodedRecord`; :func:`encode_csv` does a whole file.
"""

from linkage.encode.encode_file import EncodeReport, encode_csv
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret, generate_secret, read_secret, write_secret

__all__ = [
    "EncodeReport",
    "LinkageSecret",
    "RecordEncoder",
    "encode_csv",
    "generate_secret",
    "read_secret",
    "write_secret",
]
