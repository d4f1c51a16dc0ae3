"""The machine record and calibration that every speed number carries."""

from __future__ import annotations

import torch

from asrloop.hardware import cpu_flags
from asrloop.machine import (
    FLAGS,
    calibrate,
    describe,
    machine_record,
    usable_cores,
    utilisation,
)
from asrloop.records import LoopSummary


def test_the_record_names_the_cpu_its_flags_and_the_software():
    record = machine_record(threads=1)
    assert record["cpu"] and record["threads"] == 1
    assert 1 <= record["cores"] == usable_cores() <= (torch.get_num_threads() or 1) * 64
    assert set(record["flags"]) == {f for f in FLAGS if f in cpu_flags()}
    assert record["torch"] == torch.__version__ and record["onednn"] != ""
    assert len(record["load_average"]) in (0, 3)


def test_the_calibration_measures_at_the_requested_threads_and_restores_them():
    before = torch.get_num_threads()
    cal = calibrate(threads=1, seconds=0.05)
    assert torch.get_num_threads() == before
    assert cal["fp32_gflops"] > 0.5 and cal["bf16_gflops"] > 0.05 and cal["memory_gbps"] > 0.1
    line = describe({**machine_record(1), "calibration": cal})
    assert f"fp32 {cal['fp32_gflops']:.0f}" in line and "torch " in line


def test_utilisation_is_useful_flops_over_the_peak():
    assert utilisation(50e9, 100.0) == 0.5
    assert utilisation(50e9, 0.0) == 0.0


def test_a_summary_keeps_its_machine_and_reads_one_written_before_it_had_one(tmp_path):
    machine = {**machine_record(1), "calibration": {"fp32_gflops": 1.0}, "load_at_start": [0.1]}
    summary = LoopSummary("s", ["t"], "run", (), {}, 1.0, machine)
    path = summary.write(tmp_path / "summary.json")
    assert LoopSummary.load(path).machine == machine
    older = {k: v for k, v in summary.to_dict().items() if k != "machine"}
    assert LoopSummary.from_dict(older).machine == {}


def test_busy_cores_elsewhere_exclude_this_process_and_pick_the_threads(monkeypatch):
    from asrloop import hardware

    ticks = iter([(100, 1000), (100 + 90 + 40, 1000 + 200)])  # 2 CPUs, 100 ticks each
    own = iter([500, 540])  # 40 of the 130 busy ticks are this process's own
    monkeypatch.setattr(hardware, "usable_cpus", lambda: {0, 1})
    monkeypatch.setattr(hardware, "_cpu_ticks", lambda cpus: next(ticks))
    monkeypatch.setattr(hardware, "_own_ticks", lambda: next(own))
    monkeypatch.setattr(hardware.time, "sleep", lambda seconds: None)
    assert hardware.cores_busy_elsewhere.__wrapped__(0.3) == 0.9
    for busy, threads in ((0.0, 2), (0.5, 2), (0.6, 1), (1.9, 1)):
        monkeypatch.setattr(hardware, "cores_busy_elsewhere", lambda busy=busy: busy)
        assert hardware.pick_threads("auto") == threads
    assert hardware.pick_threads("auto", processes=2) == 1  # DDP: shared out as they are
    assert hardware.pick_threads(3) == 3


def test_a_process_busy_on_one_core_is_seen():
    import subprocess
    import sys

    from asrloop.hardware import cores_busy_elsewhere, usable_cpus

    cpu = min(usable_cpus())
    spin = "\n".join(
        [
            "import os, time",
            f"os.sched_setaffinity(0, {{{cpu}}})",
            "end = time.time() + 5",
            "while time.time() < end: pass",
        ]
    )
    child = subprocess.Popen([sys.executable, "-c", spin])
    try:
        import time

        time.sleep(0.5)
        assert cores_busy_elsewhere.__wrapped__(0.5) >= 0.6  # other load only adds to it
    finally:
        child.kill()
