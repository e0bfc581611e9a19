"Every notebook runs top to bottom under nbdev_test (IN_TEST set: small data), each in its own process."
import pytest
from conftest import ROOT, BIN, run

NOTEBOOKS = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb'))

@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_notebook(nb):
    run([BIN/'nbdev_test', '--path', f'nbs/{nb}', '--do_print'], timeout=900)
