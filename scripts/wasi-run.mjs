// Runs a wasm32-wasip1 program under Node's built-in WASI (Node >= 20): cargo's runner for that
// target, so that `cargo test --target wasm32-wasip1` runs the test binaries.
//
//     CARGO_TARGET_WASM32_WASIP1_RUNNER="node /abs/path/to/scripts/wasi-run.mjs" \
//         cargo test --release --target wasm32-wasip1 --target-dir target-wasm
//
// Usage: node scripts/wasi-run.mjs program.wasm [args...]
//
// The program gets its arguments (argv[0] is the .wasm path, as cargo passes it), the whole
// environment, and the host's file system: relative paths resolve in the current directory
// (cargo runs integration tests from the package root) and absolute paths on the host (the
// tests read `tests/data/*.csv` through `env!("CARGO_MANIFEST_DIR")`); see the preopens below. The exit code is the program's;
// a trap (a panic: `panic = "abort"` on this target, so a failing test aborts its binary) exits
// with 134, as SIGABRT would on a native target.
import { readdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import process from "node:process";

// `node:wasi` prints an ExperimentalWarning on import; keep every other warning.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
    const type = typeof rest[0] === "string" ? rest[0] : rest[0]?.type;
    const text = typeof warning === "string" ? warning : warning?.message;
    if (type === "ExperimentalWarning" && /WASI/.test(String(text))) return;
    return emitWarning.call(process, warning, ...rest);
};
const { WASI } = await import("node:wasi");

const [program, ...args] = process.argv.slice(2);
if (!program) {
    console.error("usage: node wasi-run.mjs program.wasm [args...]");
    process.exit(2);
}

// wasi-libc resolves a relative path against its own working directory, which is `/` (a WASI
// program starts with no other), so relative and absolute paths share one namespace and a
// preopen of `.` beside one of `/` would take every path. Instead, the guest's `/` is the
// current directory, so that relative paths resolve there; every top-level directory of the
// host's `/` is preopened under its own name, and the current directory under its absolute path
// too (a longer prefix wins), so that absolute paths reach the host's files. A host top-level
// directory whose name is also an entry of the current directory is left out (the relative path
// wins); no such clash occurs in this repository.
const cwd = process.cwd();
const here = new Set(readdirSync(cwd));
const preopens = { "/": cwd };
for (const entry of readdirSync("/", { withFileTypes: true })) {
    const path = `/${entry.name}`;
    let isDir = entry.isDirectory();
    if (entry.isSymbolicLink()) {
        try {
            isDir = statSync(path).isDirectory();
        } catch {
            isDir = false;
        }
    }
    if (isDir && !here.has(entry.name)) preopens[path] = path;
}
if (cwd !== "/") preopens[cwd] = cwd;

const wasi = new WASI({
    version: "preview1",
    args: [program, ...args],
    env: process.env,
    preopens,
    returnOnExit: true,
});

let code;
try {
    const module = await WebAssembly.compile(await readFile(program));
    const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
    code = wasi.start(instance);
} catch (err) {
    // A trap's JavaScript stack adds nothing to the panic message the program printed.
    const trap = err instanceof WebAssembly.RuntimeError;
    console.error(`wasi-run: ${program}: ${trap ? `trap: ${err.message}` : (err?.stack ?? err)}`);
    code = trap ? 134 : 1;
}
process.exitCode = code ?? 0;
