"""Anonymous citizen survey platform: core package (settings, database, sampler, crypto, CLI)."""

__version__ = "0.1.0"
