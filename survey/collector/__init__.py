"""The public collector: everything that runs on the internet-facing host.

The trust boundary is this package's boundary. It holds the study public key, the form
definitions, code hashes with their cohort and used flag, the code-hash key, its own
bundle-signing key and sealed answers, in its own tables (:mod:`survey.collector.models`,
migrated by its own Alembic history). It imports only the small shared core (code format and
hashing, sealing, form schema and payload size, settings, database engine): never decryption,
the roster, the register, the sampler, mailing, analysis, accounts or the office
(tests/collector/test_boundaries.py runs the real entry point and checks ``sys.modules``).
"""
