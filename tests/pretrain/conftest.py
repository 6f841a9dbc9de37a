from tests.threads import one_thread  # noqa: F401  (autouse: every test of the package runs on one thread)
