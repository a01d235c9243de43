"""The agency gateway (DESIGN §6): encodes plaintext for its responders inside the agency."""
