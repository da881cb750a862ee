"""Parity suite and oracle (``dlparity.parity_tests``): holds implementations to the reference."""
