"""Package build hook: compiles the native core ``mnemo._native`` and generates ``mnemo.wire``.

The native core (native/*.cc, pybind11) is the C++ client's transport and codec
(../cpp/src) under the Python surface, so both clients speak the protocol through one
implementation.  It is compiled from source here, with the C++ header flatc generates from
../../protocol/schema/mnemo.fbs (or $MNEMO_SCHEMA).  ``mnemo.wire``, the flatc-generated Python
readers and builders, is placed into the build tree too (for tests and tools; the client does not
use it).  Generated code is never committed.

Needs Debian's g++, flatbuffers-compiler (flatc, or $FLATC), libflatbuffers-dev, libboost-dev
(Asio, header-only), pybind11-dev and python3-pybind11 (scripts/install-deps.sh installs them).
$MNEMO_BUILD_JOBS compiles that many files at once (default 2).  Build directories go to a
temporary directory, keeping the source tree clean.
"""

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

try:
    from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
except ImportError:  # pragma: no cover - reported below, before anything is compiled
    raise SystemExit("mnemo: pybind11 not found; install pybind11-dev and python3-pybind11 "
                     "(scripts/install-deps.sh) and build with --no-build-isolation") from None

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCHEMA = Path(os.environ.get("MNEMO_SCHEMA", ROOT / "protocol" / "schema" / "mnemo.fbs")).resolve()

scratch = tempfile.mkdtemp(prefix="mnemo-py-build-")
atexit.register(shutil.rmtree, scratch, ignore_errors=True)
GENERATED = Path(scratch) / "generated"


def flatc(*args: str) -> None:
    if not SCHEMA.is_file():
        raise SystemExit(f"mnemo: wire schema not found at {SCHEMA} (set MNEMO_SCHEMA)")
    tool = os.environ.get("FLATC") or shutil.which("flatc")
    if not tool:
        raise SystemExit("mnemo: flatc not found; install flatbuffers-compiler (or set FLATC)")
    subprocess.run([tool, *args, str(SCHEMA)], check=True)


class BuildPyWithWire(build_py):
    """build_py, plus the flatc-generated ``mnemo.wire`` package."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "mnemo" / "wire"
        with tempfile.TemporaryDirectory(prefix="mnemo-flatc-") as out:
            flatc("--python", "-o", out)
            generated = Path(out) / "mnemo" / "wire"
            if not (generated / "Request.py").is_file():
                raise SystemExit(f"mnemo: flatc did not generate mnemo/wire from {SCHEMA}")
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(generated, target)


class BuildNative(build_ext):
    """build_ext, after generating the C++ header of the wire schema."""

    def run(self) -> None:
        flatc("--cpp", "--scoped-enums", "-o", str(GENERATED / "mnemo" / "wire"))
        super().run()


# The C++ client's transport and codec, and the protocol's frame codec and verifier.
CPP_SOURCES = [
    ROOT / "clients" / "cpp" / "src" / name
    for name in ("codec_decode.cc", "codec_encode.cc", "direct_connection.cc", "trace_id.cc",
                 "transport.cc", "types.cc")
] + [ROOT / "protocol" / "frame.cc", ROOT / "protocol" / "verify.cc"]
NATIVE_SOURCES = sorted((HERE / "native").glob("*.cc"))

native = Pybind11Extension(
    "mnemo._native",
    sources=[os.path.relpath(path, HERE) for path in NATIVE_SOURCES + CPP_SOURCES],
    include_dirs=[str(HERE / "native"), str(ROOT / "clients" / "cpp" / "include"),
                  str(ROOT / "clients" / "cpp" / "src"), str(ROOT), str(GENERATED)],
    cxx_std=20,
    extra_compile_args=["-O2", "-g0", "-fvisibility=hidden"],
    libraries=["pthread"],
)

ParallelCompile("MNEMO_BUILD_JOBS", default=2).install()

setup(
    ext_modules=[native],
    cmdclass={"build_py": BuildPyWithWire, "build_ext": BuildNative},
    options={"build": {"build_base": os.path.join(scratch, "build")},
             "egg_info": {"egg_base": scratch}},
)
