"""The exit files of a one-process federation: written by ``federates.common.together``, read
by the supervisor (``cosim.engine.supervisor.Member``), so that the first failure is named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cosim.engine.supervisor import Member
from federates.common.together import _Exits


def test_the_first_failure_is_written_at_once_and_the_later_ones_at_the_end(
    tmp_path: Path,
) -> None:
    exits = _Exits()
    ok, first, later = (tmp_path / f"{n}.exit" for n in ("ok", "first", "later"))
    exits.ended(ok, 0)
    exits.ended(first, 1)
    exits.ended(later, 143)  # the others losing the federation: held
    assert ok.read_text() == "0\n" and first.read_text() == "1\n"
    assert not later.exists()
    assert exits.first_failure == 1
    exits.release()
    assert later.read_text() == "143 after\n"


def test_a_member_reads_its_exit_file_else_the_process_status(tmp_path: Path) -> None:
    host = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    exit_file = tmp_path / "transmission.exit"
    m = Member(host, exit_file)
    try:
        assert m.pid == host.pid
        assert m.poll() is None and m.own() is None and not m.after  # its thread runs
        exit_file.write_text("1\n")
        assert m.poll() == 1 and m.own() == (1, False) and not m.after
        exit_file.write_text("143 after\n")
        assert m.poll() == 143 and m.after
        exit_file.unlink()
    finally:
        assert host.stdin is not None
        host.stdin.close()
        host.wait(10)
    assert m.poll() == 0 == m.returncode  # no file of its own: the process's status
