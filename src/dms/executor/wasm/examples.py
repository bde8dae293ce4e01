"""Small WASI command modules in WAT, for tests, benchmarks and ``dms testnet`` demos.

Each function returns WAT text; write it to a ``.wat`` file and run it as ``spec.module``.
Preopened directories get file descriptors in a fixed order: ``/results`` (when
``results_dir`` is set) is fd 3, then ``/inputs`` (when ``inputs_dir`` is set).
"""

from __future__ import annotations

_IMPORTS = """
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
"""


def _data(s: str) -> str:
    return "".join(f"\\{b:02x}" for b in s.encode())


def hello_wat(stdout: str = "hello\n", stderr: str = "", exit_code: int = 0) -> str:
    """Writes ``stdout`` to fd 1 and ``stderr`` to fd 2, then exits with ``exit_code``."""
    out, err = stdout.encode(), stderr.encode()
    return f"""(module{_IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 64) "{_data(stdout)}")
  (data (i32.const 1024) "{_data(stderr)}")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const {len(out)}))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const {len(err)}))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 16)))
    (call $proc_exit (i32.const {exit_code}))))
"""


def write_file_wat(dir_fd: int, name: str, content: str) -> str:
    """Creates ``name`` under the preopened directory ``dir_fd`` and writes ``content``;
    exits with path_open's errno (0 on success)."""
    return f"""(module{_IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 64) "{_data(name)}")
  (data (i32.const 1024) "{_data(content)}")
  (func (export "_start") (local $err i32)
    (local.set $err (call $path_open (i32.const {dir_fd}) (i32.const 0)
      (i32.const 64) (i32.const {len(name.encode())})
      (i32.const 9) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0)
      (i32.const 32)))
    (if (local.get $err) (then (call $proc_exit (local.get $err))))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const {len(content.encode())}))
    (drop (call $fd_write (i32.load (i32.const 32)) (i32.const 0) (i32.const 1)
      (i32.const 16)))
    (call $proc_exit (i32.const 0))))
"""


def sleep_wat(total_ms: int, *, before: str = "", step_ms: int = 50, exit_code: int = 0) -> str:
    """Prints ``before`` to stdout, sleeps ``total_ms`` in ``step_ms`` naps (WASI
    ``poll_oneoff`` on the monotonic clock; an epoch interrupt lands between naps), then
    exits with ``exit_code``."""
    steps = max(1, total_ms // step_ms)
    out = before.encode()
    return f"""(module{_IMPORTS}
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 1024) "{_data(before)}")
  (func (export "_start") (local $i i32)
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const {len(out)}))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    ;; one clock subscription at 256: userdata 0, tag 0 (clock), id 1 (monotonic),
    ;; timeout step_ms in ns, precision 0, flags 0 (relative)
    (i32.store8 (i32.const 264) (i32.const 0))
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.const {step_ms * 1_000_000}))
    (i64.store (i32.const 288) (i64.const 0))
    (i32.store16 (i32.const 296) (i32.const 0))
    (block $done
      (loop $nap
        (br_if $done (i32.ge_u (local.get $i) (i32.const {steps})))
        (drop (call $poll_oneoff (i32.const 256) (i32.const 512) (i32.const 1)
          (i32.const 600)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $nap)))
    (call $proc_exit (i32.const {exit_code}))))
"""


def args_env_wat() -> str:
    """Writes its argv buffer, then its environment buffer, to stdout (NUL-separated
    strings, as WASI hands them over), then exits 0."""
    return f"""(module{_IMPORTS}
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get"
    (func $environ_get (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16))))
  (func (export "_start")
    ;; counts at 32/36, pointer table at 1024, strings at 16384
    (drop (call $args_sizes_get (i32.const 32) (i32.const 36)))
    (drop (call $args_get (i32.const 1024) (i32.const 16384)))
    (call $print (i32.const 16384) (i32.load (i32.const 36)))
    (drop (call $environ_sizes_get (i32.const 32) (i32.const 36)))
    (drop (call $environ_get (i32.const 1024) (i32.const 16384)))
    (call $print (i32.const 16384) (i32.load (i32.const 36)))
    (call $proc_exit (i32.const 0))))
"""


def grow_memory_wat(pages_per_step: int = 16) -> str:
    """Grows its memory in a loop and traps (``unreachable``) once growth is refused."""
    return f"""(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $again
      (if (i32.eq (memory.grow (i32.const {pages_per_step})) (i32.const -1))
        (then unreachable))
      (br $again))))
"""


def spin_wat() -> str:
    """Loops forever (stopped only by a deadline or a cancel)."""
    return """(module
  (memory (export "memory") 1)
  (func (export "_start") (loop $forever (br $forever))))
"""
