"""The firmware example's federated round (`examples/firmware`, `fleet_round`) from Python:
the device's update frame decodes here, and the Python package computes the same bytes from
the same readings and the same global frame, so a device and a Flower client (`npoa.fleet`)
are interchangeable on the wire.

The firmware's transcript comes from `scripts/firmware.sh` (`target/firmware/host-min.txt`,
whose `bits` lines every board under QEMU matches) or from NPOA_FIRMWARE_TRANSCRIPT; without
one the test is skipped (NPOA_REQUIRE_FIRMWARE=1, as in CI, makes that a failure)."""

import os
from pathlib import Path

import numpy as np
import pytest

import npoa

ROOT = Path(__file__).resolve().parents[2]
D, SAMPLES, SEED = 8, 128, 0x5EED_0001
W = np.array([0.8, -1.2, 0.5, 2.0, -0.3, 0.0, 1.1, -0.7], dtype=np.float32)
B = np.float32(0.25)
M32 = 0xFFFF_FFFF


def readings(seed=SEED):
    """The firmware's sensor (`Sensor::read`): xorshift32 readings in [-1, 1), exact in float32,
    and the response summed in the same order, each operation rounded to float32."""
    s = seed or 1
    f = np.float32

    def unit():
        nonlocal s
        s ^= (s << 13) & M32
        s ^= s >> 17
        s ^= (s << 5) & M32
        return f(s >> 8) * f(1.0 / 8_388_608.0) - f(1.0)

    X = np.zeros((SAMPLES, D), dtype=np.float32)
    y = np.zeros(SAMPLES, dtype=np.float32)
    for i in range(SAMPLES):
        for j in range(D):
            X[i, j] = unit()
        t = B
        for j in range(D):
            t = f(t + f(X[i, j] * W[j]))
        y[i] = f(t + f(f(0.05) * unit()))
    return X, y


def transcript():
    path = os.environ.get("NPOA_FIRMWARE_TRANSCRIPT") or ROOT / "target" / "firmware" / "host-min.txt"
    if not Path(path).exists():
        if os.environ.get("NPOA_REQUIRE_FIRMWARE"):
            pytest.fail(f"NPOA_REQUIRE_FIRMWARE is set but {path} does not exist")
        pytest.skip("no firmware transcript (bash scripts/firmware.sh writes it)")
    return Path(path).read_text()


def test_the_device_update_is_what_the_python_package_computes():
    lines = [l for l in transcript().splitlines() if l.startswith("bits fleet-update ")]
    assert len(lines) == 1, "the firmware prints its update frame"
    device = bytes.fromhex(lines[0].split()[-1])
    role, rnd, samples, model = npoa.unframe(device)  # both CRCs checked
    assert (role, rnd, samples) == ("update", 1, SAMPLES)
    assert npoa.Model.from_bytes(model).features == D

    # The same round in Python: the server's global frame, the device's local training.
    zero = npoa.Model.linear([0.0] * D, 0.0, "squared").to_bytes()
    wire = npoa.frame("global", 1, 0, zero)
    _, _, _, start = npoa.unframe(wire)
    reg = npoa.LinearRegressor.from_bytes(start, standardize=False, learning_rate=0.1, partial_batch=8)
    X, y = readings()
    for _ in range(5):  # FLEET_EPOCHS
        reg.partial_fit(X, y)
    assert npoa.frame("update", 1, SAMPLES, reg.to_bytes()) == device
