"""Package build hook: compiles the native core ``mnemo._native``; generates ``mnemo.wire`` and
``mnemo._status_codes``.

The native core (native/*.cc, pybind11) is the C++ client's transport and codec (../cpp/src, over
../../base and ../../protocol) under the Python surface, so both clients speak the protocol
through one implementation.  It is compiled from source here, with the C++ header flatc
generates from ../../protocol/schema/mnemo.fbs (or $MNEMO_SCHEMA).  build_py adds the
flatc-generated Python readers and builders (``mnemo.wire``, for tests and tools; the client does
not use them) and turns the status-code table ../../base/include/mnemo/base/error_codes.def (or
$MNEMO_ERROR_CODES), the one every C++ component compiles, into ``mnemo/_status_codes.py``.
Generated code is never committed.

Needs Debian's g++, flatbuffers-compiler (flatc, or $FLATC), libflatbuffers-dev, libboost-dev
(Asio, header-only), python3-dev, pybind11-dev and python3-pybind11 (scripts/install-deps.sh
installs them).  $MNEMO_BUILD_JOBS compiles that many files at once (default 2).  Build
directories go to a temporary directory, keeping the source tree clean.
"""

import atexit
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

try:
    from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
except ImportError:  # pragma: no cover - reported before anything is compiled
    raise SystemExit("mnemo: pybind11 not found; install pybind11-dev and python3-pybind11 "
                     "(scripts/install-deps.sh) and build with --no-build-isolation") from None

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCHEMA = Path(os.environ.get("MNEMO_SCHEMA", ROOT / "protocol" / "schema" / "mnemo.fbs")).resolve()
ERROR_CODES = Path(os.environ.get(
    "MNEMO_ERROR_CODES", ROOT / "base" / "include" / "mnemo" / "base" / "error_codes.def")).resolve()
# One row of error_codes.def: MNEMO_ERROR_CODE(CamelName, WIRE_NAME, value, http_status)
ERROR_CODE_ROW = re.compile(r"^MNEMO_ERROR_CODE\((\w+), (\w+), (\d+), (\d+)\)\s*$")

scratch = tempfile.mkdtemp(prefix="mnemo-py-build-")
atexit.register(shutil.rmtree, scratch, ignore_errors=True)


def generated_dir() -> Path:
    """Where the C++ header of the schema goes: a path named by the schema's hash, so that
    repeated builds pass the compiler the same flags (and ccache, when CC/CXX use it, hits)."""
    digest = hashlib.sha256(SCHEMA.read_bytes()).hexdigest()[:16] if SCHEMA.is_file() else "none"
    return Path(tempfile.gettempdir()) / f"mnemo-wire-cpp-{digest}"


GENERATED = generated_dir()


def flatc(*args: str) -> None:
    if not SCHEMA.is_file():
        raise SystemExit(f"mnemo: wire schema not found at {SCHEMA} (set MNEMO_SCHEMA)")
    tool = os.environ.get("FLATC") or shutil.which("flatc")
    if not tool:
        raise SystemExit("mnemo: flatc not found; install flatbuffers-compiler (or set FLATC)")
    subprocess.run([tool, *args, str(SCHEMA)], check=True)


def status_code_module(table: Path) -> str:
    """The text of mnemo/_status_codes.py for the rows of error_codes.def."""
    rows = []
    for line in table.read_text(encoding="utf-8").splitlines():
        if not line.startswith("MNEMO_ERROR_CODE("):
            continue
        match = ERROR_CODE_ROW.match(line)
        if match is None:
            raise SystemExit(f"mnemo: cannot read {table}: {line!r}")
        rows.append((match.group(2), int(match.group(3)), int(match.group(4))))
    if [value for _, value, _ in rows] != list(range(len(rows))):
        raise SystemExit(f"mnemo: {table}: status code values are not 0, 1, 2, ...")
    lines = [f"# Generated from {table.name} by setup.py at build time; do not edit.",
             '"""SPEC §4 status codes: wire values and the HTTP statuses mnemo-rest answers."""',
             "",
             "# name -> wire value",
             "WIRE_VALUES: dict[str, int] = {"]
    lines += [f"    {name!r}: {value}," for name, value, _ in rows]
    lines += ["}", "", "# name -> HTTP status", "HTTP_STATUS: dict[str, int] = {"]
    lines += [f"    {name!r}: {http}," for name, _, http in rows]
    lines += ["}", ""]
    return "\n".join(lines)


class BuildPy(build_py):
    """build_py, plus the generated ``mnemo.wire`` package and ``mnemo._status_codes``."""

    def run(self) -> None:
        super().run()
        self.generate_wire(Path(self.build_lib) / "mnemo" / "wire")
        self.generate_status_codes(Path(self.build_lib) / "mnemo" / "_status_codes.py")

    def generate_status_codes(self, target: Path) -> None:
        if not ERROR_CODES.is_file():
            raise SystemExit(f"mnemo: status code table not found at {ERROR_CODES} "
                             "(set MNEMO_ERROR_CODES)")
        target.write_text(status_code_module(ERROR_CODES), encoding="utf-8")
        self.announce(f"generated {target} from {ERROR_CODES}", level=2)

    def generate_wire(self, target: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="mnemo-flatc-") as out:
            flatc("--python", "-o", out)
            generated = Path(out) / "mnemo" / "wire"
            if not (generated / "Request.py").is_file():
                raise SystemExit(f"mnemo: flatc did not generate mnemo/wire from {SCHEMA}")
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(generated, target)
        self.announce(f"generated {target} from {SCHEMA}", level=2)


class BuildNative(build_ext):
    """build_ext, after generating the C++ header of the wire schema."""

    def run(self) -> None:
        if not (GENERATED / "mnemo" / "wire" / "mnemo_generated.h").is_file():
            # Generated aside, then renamed into place: concurrent builds never see half a file.
            partial = Path(tempfile.mkdtemp(prefix="mnemo-wire-cpp-", dir=scratch))
            flatc("--cpp", "--scoped-enums", "-o", str(partial / "mnemo" / "wire"))
            try:
                partial.rename(GENERATED)
            except OSError:
                if not (GENERATED / "mnemo" / "wire" / "mnemo_generated.h").is_file():
                    raise
        super().run()


# The C++ client's transport and codec, the protocol's frame codec and verifier, and the shared
# facts they use (base/).
CPP_SOURCES = [
    ROOT / "clients" / "cpp" / "src" / name
    for name in ("codec_decode.cc", "codec_encode.cc", "direct_connection.cc", "router.cc",
                 "trace_id.cc", "transport.cc", "types.cc")
] + [ROOT / "protocol" / "frame.cc", ROOT / "protocol" / "verify.cc"] + [
    ROOT / "base" / name for name in ("hex.cc", "time.cc", "uuid.cc")
]
NATIVE_SOURCES = sorted((HERE / "native").glob("*.cc"))

native = Pybind11Extension(
    "mnemo._native",
    # setuptools wants paths relative to this directory; objects land under the build directory.
    sources=[os.path.relpath(path, HERE) for path in NATIVE_SOURCES + CPP_SOURCES],
    include_dirs=[str(HERE / "native"), str(ROOT / "clients" / "cpp" / "include"),
                  str(ROOT / "clients" / "cpp" / "src"), str(ROOT / "base" / "include"), str(ROOT),
                  str(GENERATED)],
    cxx_std=20,
    extra_compile_args=["-O2", "-g0", "-fvisibility=hidden"],
    libraries=["pthread"],
)

ParallelCompile("MNEMO_BUILD_JOBS", default=2).install()

setup(
    ext_modules=[native],
    cmdclass={"build_py": BuildPy, "build_ext": BuildNative},
    options={"build": {"build_base": os.path.join(scratch, "build")},
             "egg_info": {"egg_base": scratch}},
)
