"""Package build hook: generates ``mnemo.wire`` and ``mnemo._status_codes`` at build time.

Neither is committed.  build_py runs ``flatc --python`` on ../../protocol/schema/mnemo.fbs (or
$MNEMO_SCHEMA) and places the ``mnemo/wire`` modules into the build tree, so every wheel carries
code matching its schema; and it turns the status-code table
../../base/include/mnemo/base/error_codes.def (or $MNEMO_ERROR_CODES), the one every C++
component compiles, into ``mnemo/_status_codes.py``.  Needs Debian's flatbuffers-compiler
(flatc, or $FLATC).  Build directories go to a temporary directory, keeping the source tree
clean.
"""

import atexit
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SCHEMA = Path(os.environ.get("MNEMO_SCHEMA",
                            HERE / ".." / ".." / "protocol" / "schema" / "mnemo.fbs"))
ERROR_CODES = Path(os.environ.get("MNEMO_ERROR_CODES",
                                 HERE / ".." / ".." / "base" / "include" / "mnemo" / "base" /
                                 "error_codes.def"))
# One row of error_codes.def: MNEMO_ERROR_CODE(CamelName, WIRE_NAME, value, http_status)
ERROR_CODE_ROW = re.compile(r"^MNEMO_ERROR_CODE\((\w+), (\w+), (\d+), (\d+)\)\s*$")


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


class BuildPyWithWire(build_py):
    """build_py, plus the generated ``mnemo.wire`` package and ``mnemo._status_codes``."""

    def run(self) -> None:
        super().run()
        self.generate_wire(Path(self.build_lib) / "mnemo" / "wire")
        self.generate_status_codes(Path(self.build_lib) / "mnemo" / "_status_codes.py")

    def generate_status_codes(self, target: Path) -> None:
        table = ERROR_CODES.resolve()
        if not table.is_file():
            raise SystemExit(f"mnemo: status code table not found at {table} "
                             "(set MNEMO_ERROR_CODES)")
        target.write_text(status_code_module(table), encoding="utf-8")
        self.announce(f"generated {target} from {table}", level=2)

    def generate_wire(self, target: Path) -> None:
        schema = SCHEMA.resolve()
        if not schema.is_file():
            raise SystemExit(f"mnemo: wire schema not found at {schema} (set MNEMO_SCHEMA)")
        flatc = os.environ.get("FLATC") or shutil.which("flatc")
        if not flatc:
            raise SystemExit("mnemo: flatc not found; install flatbuffers-compiler (or set FLATC)")
        with tempfile.TemporaryDirectory(prefix="mnemo-flatc-") as out:
            subprocess.run([flatc, "--python", "-o", out, str(schema)], check=True)
            generated = Path(out) / "mnemo" / "wire"
            if not (generated / "Request.py").is_file():
                raise SystemExit(f"mnemo: flatc did not generate mnemo/wire from {schema}")
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(generated, target)
        self.announce(f"generated {target} from {schema}", level=2)


scratch = tempfile.mkdtemp(prefix="mnemo-py-build-")
atexit.register(shutil.rmtree, scratch, ignore_errors=True)

setup(
    cmdclass={"build_py": BuildPyWithWire},
    options={"build": {"build_base": os.path.join(scratch, "build")},
             "egg_info": {"egg_base": scratch}},
)
