"""fixtures.infra.leftovers: a cluster whose run was SIGKILLed is deleted by the next
run, and nothing else is: live owners, other clusters, unrecorded ones."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.process import spawn, start_ticks, terminate
from fixtures.infra import leftovers
from fixtures.infra.leftovers import Owner
from fixtures.waits import wait_until


def _dead_owner() -> Owner:
    proc = spawn(["sleep", "60"])
    ticks = start_ticks(proc.pid)
    assert ticks is not None
    terminate(proc, grace=0)
    return Owner(proc.pid, ticks, leftovers._boot_id())


def test_a_live_owner_keeps_its_cluster(tmp_path: Path) -> None:
    leftovers.record(tmp_path, "fake-a")
    assert leftovers.owner_alive(leftovers.current_owner())
    assert leftovers.orphans(tmp_path, ["fake-a"]) == []


def test_a_dead_owner_orphans_its_cluster(tmp_path: Path) -> None:
    owner = _dead_owner()
    leftovers.record(tmp_path, "fake-a", owner)
    assert leftovers.orphans(tmp_path, ["fake-a", "other"]) == [("fake-a", owner)]


def test_a_reused_pid_is_not_the_owner(tmp_path: Path) -> None:
    me = leftovers.current_owner()
    leftovers.record(tmp_path, "fake-a", Owner(me.pid, me.start_ticks + 1, me.boot_id))
    assert [n for n, _ in leftovers.orphans(tmp_path, ["fake-a"])] == ["fake-a"]


def test_an_owner_from_another_boot_is_gone(tmp_path: Path) -> None:
    """A machine restored from a snapshot: same pid and ticks may even match, the boot does not."""
    me = leftovers.current_owner()
    leftovers.record(tmp_path, "fake-a", Owner(me.pid, me.start_ticks, "another-boot"))
    assert [n for n, _ in leftovers.orphans(tmp_path, ["fake-a"])] == ["fake-a"]


def test_records_of_deleted_clusters_and_garbage_are_dropped(tmp_path: Path) -> None:
    leftovers.record(tmp_path, "fake-gone", _dead_owner())
    (tmp_path / "fake-garbage.json").write_text("{not json")
    assert leftovers.orphans(tmp_path, ["fake-garbage"]) == []
    assert list(tmp_path.iterdir()) == []


def test_a_live_runs_record_survives_before_its_cluster_exists(tmp_path: Path) -> None:
    """Another run that is still creating its cluster: kind does not list it yet."""
    leftovers.record(tmp_path, "fake-creating")
    assert leftovers.orphans(tmp_path, []) == []
    assert [p.name for p in tmp_path.iterdir()] == ["fake-creating.json"]


def test_no_records_dir_means_no_orphans(tmp_path: Path) -> None:
    assert leftovers.orphans(tmp_path / "missing", ["fake-a"]) == []


@pytest.fixture
def fake_port_forward(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process shaped like the suite's kubectl port-forward for cluster fake-a."""
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "kind0" / "fake-a.kubeconfig")}
    proc = spawn(["bash", "-c", "sleep 60; exit 0", "port-forward"], env=env)
    yield proc
    terminate(proc, grace=0)


def test_port_forwards_are_found_by_their_kubeconfig(tmp_path: Path, fake_port_forward) -> None:
    other = spawn(["bash", "-c", "sleep 60; exit 0", "port-forward"],
                  env={**os.environ, "KUBECONFIG": str(tmp_path / "fake-ab.kubeconfig")})
    by_flag = spawn(["bash", "-c", "sleep 60; exit 0", "--kubeconfig", str(tmp_path / "fake-a.kubeconfig"),
                     "port-forward"])
    try:
        # A process seconds old may not show its final argv/environ in /proc yet; the reaper only
        # ever looks at processes a killed run left long ago.
        found = wait_until("both fake-a port-forwards to show in /proc", lambda: leftovers.port_forwards_for("fake-a"),
                           lambda pids: {fake_port_forward.pid, by_flag.pid} <= set(pids), timeout=5,
                           interval=0.05, progress_every=None)
        assert fake_port_forward.pid in found
        assert by_flag.pid in found
        assert other.pid not in found
    finally:
        for p in (other, by_flag):
            terminate(p, grace=0)


def test_reap_deletes_orphans_stops_their_port_forwards_and_keeps_the_rest(tmp_path: Path,
                                                                            fake_port_forward) -> None:
    records = tmp_path / "records"
    leftovers.record(records, "fake-a", _dead_owner())
    leftovers.record(records, "fake-live")
    deleted: list[str] = []
    reaped = leftovers.reap(records, ["fake-a", "fake-live", "not-ours"], lambda n: deleted.append(n) or True)
    assert reaped == deleted == ["fake-a"]
    assert fake_port_forward.wait(timeout=10) is not None
    assert sorted(p.name for p in records.iterdir()) == ["fake-live.json"]


def test_a_failed_delete_keeps_the_record_for_the_next_run(tmp_path: Path) -> None:
    leftovers.record(tmp_path, "fake-a", _dead_owner())
    assert leftovers.reap(tmp_path, ["fake-a"], lambda n: False) == []
    assert [n for n, _ in leftovers.orphans(tmp_path, ["fake-a"])] == ["fake-a"]
