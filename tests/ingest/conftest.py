from tests.mailing.conftest import PUBLIC_URL, drawn  # noqa: F401  (shared fixture)
