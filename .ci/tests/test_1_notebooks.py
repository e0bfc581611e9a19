"""Every notebook runs top to bottom under nbdev's test runner (IN_TEST set: small data), each in its own process, as
Colab would run it: a copy of the notebook alone in an empty folder, sel_nb importable, no clone around it and no
network. A chapter that reads the committed results asks `sel_nb.repo.committed`, which finds nothing beside it; it
then finds them where a fetch would have put them (the cache holds this clone's `results/` and `.ci/`), so the checks
the chapter makes against committed results run too. The offline path, where nothing was fetched and the chapter says
in one line that the results are absent, is run for two of those chapters in `test_4_colab_notebook`.
`index.ipynb` and `results.ipynb` (the README's source and the site's Results page, not chapters) run in place, from `nbs/`."""
import configparser, os, shutil
import pytest
from conftest import ROOT, BIN, run

NOTEBOOKS = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb'))
IN_PLACE = ('index.ipynb', 'results.ipynb')  # the README's source and the site's Results page: both read the clone's results/, not chapters
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

def fetched_env(tmp):
    "As `offline_env`, with the committed results already fetched into the cache (links to this clone's folders)."
    cache = tmp/'cache'; cache.mkdir()
    for d in ('results', '.ci'): (cache/d).symlink_to(ROOT/d, target_is_directory=True)
    return offline_env(tmp)

def reads_committed(nb):
    "Does the chapter ask for committed files?"
    return 'committed(' in (ROOT/'nbs'/nb).read_text()

@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_notebook(nb, tmp_path):
    if nb in IN_PLACE:
        run([BIN/'nbdev_test', '--path', f'nbs/{nb}', '--do_print'], timeout=900); return
    here = tmp_path/'colab'; here.mkdir()
    shutil.copy(ROOT/'nbs'/nb, here/nb)
    env = fetched_env(tmp_path) if reads_committed(nb) else offline_env(tmp_path)
    run([BIN/'python', '-c', RUN, nb, *SKIP_FLAGS], cwd=here, env=env, timeout=900)
