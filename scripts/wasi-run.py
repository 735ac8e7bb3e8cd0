#!/usr/bin/env python3
"""Runs a wasm32-wasip1 program under wasmtime (the PyPI `wasmtime` package): cargo's runner for
that target where no Node >= 20 is at hand (scripts/wasi-run.mjs, the usual runner, says more).

    python3 -m venv venv && venv/bin/pip install wasmtime
    CARGO_TARGET_WASM32_WASIP1_RUNNER="venv/bin/python /abs/path/to/scripts/wasi-run.py" \\
        cargo test --release --target wasm32-wasip1 --target-dir target-wasm

Usage: wasi-run.py program.wasm [args...]

The same contract as wasi-run.mjs: the program's arguments and the whole environment; relative
paths resolve in the current directory and absolute ones on the host (the guest's `/` is the
current directory, every top-level directory of the host's `/` is preopened under its own name,
except one whose name is also an entry of the current directory, and the current directory under
its absolute path too); the exit code is the program's, 134 on a trap (a panic).
"""

import os
import sys

import wasmtime


def preopens(cwd):
    here = set(os.listdir(cwd))
    dirs = {"/": cwd}
    for name in os.listdir("/"):
        path = "/" + name
        if os.path.isdir(path) and name not in here:
            dirs[path] = path
    if cwd != "/":
        dirs[cwd] = cwd
    return dirs


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: wasi-run.py program.wasm [args...]")
    program = sys.argv[1]
    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    module = wasmtime.Module.from_file(engine, program)

    config = wasmtime.WasiConfig()
    config.argv = sys.argv[1:]
    config.env = list(os.environ.items())
    config.inherit_stdin()
    config.inherit_stdout()
    config.inherit_stderr()
    for guest, host in preopens(os.getcwd()).items():
        config.preopen_dir(host, guest)

    store = wasmtime.Store(engine)
    store.set_wasi(config)
    instance = linker.instantiate(store, module)
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as e:
        return e.code
    except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
        # The trap's cause (its last line) is enough beside the panic message the program printed.
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        print(f"wasi-run: {program}: {lines[-1] if lines else type(e).__name__}", file=sys.stderr)
        return 134
    return 0


if __name__ == "__main__":
    sys.exit(main())
