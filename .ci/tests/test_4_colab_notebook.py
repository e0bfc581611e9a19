"""The benchmark notebook, run the way Colab runs it (a Jupyter kernel, top to bottom, IN_TEST unset), with only the
parameters cell changed: the smoke preset, into a temporary folder."""
import os, re
import nbformat
from nbclient import NotebookClient
from conftest import ROOT, BIN

def test_benchmark_notebook_runs_with_the_smoke_preset(tmp_path, monkeypatch):
    nb = nbformat.read(ROOT/'nbs'/'11_benchmark.ipynb', as_version=4)
    params = [c for c in nb.cells if c.cell_type == 'code' and re.search(r'^PRESET = ', c.source, re.M)]
    assert len(params) == 1, 'the notebook should have one parameters cell (PRESET = ...)'
    params[0].source = f"PRESET, SEEDS, OUT = 'smoke', None, Path({str(tmp_path / 'smoke')!r})"
    monkeypatch.delenv('IN_TEST', raising=False)
    monkeypatch.setenv('PATH', f"{BIN}{os.pathsep}{os.environ['PATH']}")  # the kernel is this environment's python
    NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': str(ROOT/'nbs')}}).execute()
    for f in ('summary.csv', 'benchmark_results.png', 'thermal_snapshot.png'): assert (tmp_path/'smoke'/f).exists()
    shown = [o for c in nb.cells for o in c.get('outputs', []) if 'image/png' in o.get('data', {})]
    assert len(shown) >= 2  # the figure and the snapshot, displayed in the notebook
