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
