"""The test suite's own set-up: what makes `make test` share its costliest work."""

import pytest


@pytest.mark.xdist_group("graded_course")
def test_xdist_groups_reach_the_scheduler(request):
    # Tests marked xdist_group("graded_course") share one worker, hence one graded course copy,
    # only if pytest-xdist can tag their ids with the group (`--dist loadgroup`). pytest 9.2
    # stopped that silently (the copy was graded on both workers), hence the pinned pytest.
    if request.config.getoption("loadgroup", default=False):
        assert request.node.nodeid.endswith("@graded_course"), request.node.nodeid
    else:
        pytest.skip("not run with `pytest -n N --dist loadgroup` (make test does)")
