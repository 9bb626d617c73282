"""Erasure of a study's personal data by two people, with a certificate anyone can verify.

The flow (DESIGN.md invariants 1, 2, 7, 8): an officer requests an erasure of one scope
(:mod:`survey.erasure.inventory` lists what it covers, anchored to the ``erasure.request``
audit entry); the officer and then a manager sign that inventory with their own Ed25519 keys
(:mod:`survey.erasure.requests`); an officer executes it (:mod:`survey.erasure.execution`:
crypto-erasure of the roster key first, then rows, tracked files and the database's free
space, :mod:`survey.erasure.destroy`), the leak check looks for what should be gone
(:mod:`survey.erasure.leakcheck`), and the officer signs the certificate as performed-by
(:mod:`survey.erasure.certificate`, a PDF in :mod:`survey.erasure.pdf`); a manager confirms it
as verified-by. :mod:`survey.erasure.verify` checks a certificate with nothing but the file
(and, optionally, the staff keys file): no database, no data folder.
"""
