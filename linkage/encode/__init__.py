"""The agency side: normalisation, keys, hardened Bloom filters and keyed tokens, encode_file."""
