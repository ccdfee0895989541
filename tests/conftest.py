from hypothesis import settings

pytest_plugins = ["tests.support.docker_fixtures", "tests.support.postgres"]

# Timing belongs to the benchmarks under tests/perf, not to property tests on
# a shared two-core machine.
settings.register_profile("project", deadline=None, max_examples=150)
settings.load_profile("project")
