"""Keys and the sealed package format: the one door to cryptography."""
