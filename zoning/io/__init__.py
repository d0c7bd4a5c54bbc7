"""Input and output: the only part of zoning that opens files, archives or connections."""
