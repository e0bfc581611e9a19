"""Chapters as Colab runs them. Two chapters that read committed results, with nothing fetched. The benchmark notebook through a Jupyter kernel, top to bottom, IN_TEST unset, from an
empty folder with no network (as `test_1_notebooks` runs every chapter), only its parameters cell changed: the smoke
preset, into a temporary folder. And every chapter carries its "Open in Colab" badge, linking to itself on GitHub."""
import json, os, re
import nbformat
from nbclient import NotebookClient
from conftest import ROOT, BIN
import pytest
from test_1_notebooks import IN_PLACE, offline_env

def test_benchmark_notebook_runs_with_the_smoke_preset(tmp_path, monkeypatch):
    nb = nbformat.read(ROOT/'nbs'/'11_benchmark.ipynb', as_version=4)
    params = [c for c in nb.cells if c.cell_type == 'code' and re.search(r'^PRESET = ', c.source, re.M)]
    assert len(params) == 1, 'the notebook should have one parameters cell (PRESET = ...)'
    params[0].source = f"PRESET, SEEDS, OUT = 'smoke', None, Path({str(tmp_path / 'smoke')!r})"
    monkeypatch.delenv('IN_TEST', raising=False)
    for k, v in offline_env(tmp_path).items(): monkeypatch.setenv(k, v)
    monkeypatch.setenv('PATH', f"{BIN}{os.pathsep}{os.environ['PATH']}")  # the kernel is this environment's python
    here = tmp_path/'colab'; here.mkdir()  # the notebook's folder: nothing beside it
    NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': str(here)}}).execute()
    for f in ('summary.csv', 'benchmark_results.png', 'thermal_snapshot.png'): assert (tmp_path/'smoke'/f).exists()
    shown = [o for c in nb.cells for o in c.get('outputs', []) if 'image/png' in o.get('data', {})]
    assert len(shown) >= 2  # the figure and the snapshot, displayed in the notebook

BADGE = '[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/sel-nb/sel_nb/blob/main/nbs/{})'

def test_every_chapter_has_its_colab_badge():
    "The badge is the markdown cell under the title, and opens this very notebook."
    wrong = []
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        if nb.name in IN_PLACE or not any(c['cell_type'] == 'code' for c in cells): continue  # the home page; a page without code
        if ''.join(cells[1]['source']).strip() != BADGE.format(nb.name): wrong.append(nb.name)
    assert not wrong, f"no Colab badge under the title (as in nbs/01_model.ipynb) in: {wrong}"

@pytest.mark.parametrize('nb', ['09_report.ipynb', '09b_comm_report.ipynb'])
def test_a_results_chapter_runs_with_nothing_fetched(nb, tmp_path, monkeypatch):
    "Offline with an empty cache, a chapter that reads committed results says in one line that they are absent, and runs on."
    book = nbformat.read(ROOT/'nbs'/nb, as_version=4)
    monkeypatch.setenv('IN_TEST', '1')
    for k, v in offline_env(tmp_path).items(): monkeypatch.setenv(k, v)
    monkeypatch.setenv('PATH', f"{BIN}{os.pathsep}{os.environ['PATH']}")
    here = tmp_path/'colab'; here.mkdir()
    NotebookClient(book, timeout=600, kernel_name='python3', resources={'metadata': {'path': str(here)}}).execute()
    said = [o.get('text', '') for c in book.cells for o in c.get('outputs', []) if o.get('output_type') == 'stream']
    assert any('is absent: no clone beside this notebook' in t for t in said), said
