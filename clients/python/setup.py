"""Package build hook: generates ``mnemo.wire`` from the wire schema with flatc.

The generated FlatBuffers code is never committed: build_py runs
``flatc --python`` on ../../protocol/schema/mnemo.fbs (or $MNEMO_SCHEMA) and places the
``mnemo/wire`` modules into the build tree, so every wheel carries code matching its schema.
Needs Debian's flatbuffers-compiler (flatc, or $FLATC).  Build directories go to a temporary
directory, keeping the source tree clean.
"""

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SCHEMA = Path(os.environ.get("MNEMO_SCHEMA",
                            HERE / ".." / ".." / "protocol" / "schema" / "mnemo.fbs"))


class BuildPyWithWire(build_py):
    """build_py, plus the flatc-generated ``mnemo.wire`` package."""

    def run(self) -> None:
        super().run()
        self.generate_wire(Path(self.build_lib) / "mnemo" / "wire")

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
