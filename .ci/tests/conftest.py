"Shared fixtures for the suite: the repository root, and commands run from the project's environment."
import subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's bin: nbdev_test, sel_bench, ...

def run(cmd, timeout=600, check=True, **kw):
    "Run `cmd` (a list) from the repository root; on failure, show its output in the assertion."
    r = subprocess.run(cmd, cwd=kw.pop('cwd', ROOT), capture_output=True, text=True, timeout=timeout, **kw)
    if check: assert r.returncode == 0, f"{' '.join(map(str, cmd))} exited {r.returncode}\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r

@pytest.fixture(scope='session')
def root(): return ROOT
