"""Every notebook runs top to bottom under nbdev's test runner (IN_TEST set: small data), each in its own process, as
Colab would run it: a copy of the notebook alone in an empty folder, sel_nb importable, no clone around it and no
network. A chapter that reads the committed results asks `sel_nb.repo.committed`, which finds nothing beside it and
fails to fetch (the repository's address points at nothing), says so in one line and skips what needs them.
`index.ipynb` (the README's source, not a chapter) runs in place, from `nbs/`."""
import configparser, os, shutil
import pytest
from conftest import ROOT, BIN, run

NOTEBOOKS = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb'))
IN_PLACE = ('index.ipynb',)
_ini = configparser.ConfigParser(); _ini.read(ROOT/'settings.ini')
SKIP_FLAGS = _ini['DEFAULT'].get('tst_flags', 'notest').split()  # what nbdev_test skips: `#| notest` cells

RUN = """import sys
from pathlib import Path
from nbdev.test import test_nb
ok, secs = test_nb(Path(sys.argv[1]).absolute(), skip_flags=sys.argv[2:], do_print=True)
print(f'{sys.argv[1]}: {secs:.1f} s')
sys.exit(0 if ok else 1)"""

def offline_env(tmp):
    "The environment of a fresh runtime with no network: an empty cache for fetched results, and nothing to fetch from."
    return os.environ | {'SEL_NB_CACHE': str(tmp/'cache'), 'SEL_NB_REPO_URL': f'file://{tmp}/no-network', 'GIT_TERMINAL_PROMPT': '0'}

@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_notebook(nb, tmp_path):
    if nb in IN_PLACE:
        run([BIN/'nbdev_test', '--path', f'nbs/{nb}', '--do_print'], timeout=900); return
    here = tmp_path/'colab'; here.mkdir()
    shutil.copy(ROOT/'nbs'/nb, here/nb)
    run([BIN/'python', '-c', RUN, nb, *SKIP_FLAGS], cwd=here, env=offline_env(tmp_path), timeout=900)
