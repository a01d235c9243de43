"""What a hub admits: strict validation of submitted encodings, plaintext detection."""
