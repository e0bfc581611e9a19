"The nbdev-ci checks: the notebooks are clean, the package is exported from them, the README is generated from index."
import filecmp, json, os, re
from conftest import ROOT, BIN, run

def status(): return run(['git', 'status', '--porcelain']).stdout

def test_export_and_clean_change_nothing():
    before = status()
    run([BIN/'nbdev_export']); run([BIN/'nbdev_clean'])
    assert status() == before, f"nbdev_export/nbdev_clean changed files: run them and commit\n{run(['git', 'diff', '--stat']).stdout}"

def test_readme_is_generated_from_index(tmp_path):
    run([BIN/'python', '-c', f"import sys; sys.path.insert(0, '.ci'); import docs; docs.build_readme('.', dest={str(tmp_path)!r})"])
    assert (tmp_path/'README.md').read_text() == (ROOT/'README.md').read_text(), \
        "README.md differs from nbs/index.ipynb: run `.venv/bin/python .ci/docs.py readme` and commit"
    made, kept = tmp_path/'index_files', ROOT/'index_files'
    if made.exists() or kept.exists():
        cmp = filecmp.dircmp(made, kept)
        assert not (cmp.left_only or cmp.right_only or cmp.diff_files), "README figures in index_files/ are stale"

INSTALL = """#| hide
# In Colab: install sel_nb from GitHub when it is missing (locally `.ci/setup` has installed it).
try: import sel_nb
except ImportError:
    %pip install -q git+https://github.com/sel-nb/sel_nb"""

def test_every_chapter_installs_sel_nb_before_importing_it():
    "A chapter opened in Colab must install sel_nb before its first import of it: that cell is the install cell."
    wrong = []
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        code = [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
        if not any(s.lstrip().startswith('#| default_exp') for s in code): continue
        first = next((s for s in code if re.search(r'\b(import|from) sel_nb\b', s)), None)
        if first is not None and first != INSTALL: wrong.append(nb.name)
    assert not wrong, f"no Colab install cell (as in nbs/01_model.ipynb, after `#| default_exp`) before sel_nb is imported in: {wrong}"

PROSE = ('index.ipynb', 'results.ipynb', '05a_selective.ipynb', '09d_study.ipynb', '12_continual.ipynb')  # the notebooks whose prose quotes the committed results

def results_prose(cells):
    "Run, in nbs/, the import-only `#| hide` cells and the `#| echo: false` cells of a notebook: the fresh outputs of those that display Markdown."
    from execnb.shell import CaptureShell
    def imports_only(src): return all(l.startswith(('#', 'import ', 'from ')) or not l.strip() for l in src.splitlines())
    sh, fresh, cwd = CaptureShell(), {}, os.getcwd()
    os.chdir(ROOT/'nbs')
    try:
        for i, c in enumerate(cells):
            src = ''.join(c['source'])
            if c['cell_type'] != 'code' or not (src.startswith('#| echo: false') or src.startswith('#| hide') and imports_only(src)): continue
            out = sh.run(src)
            assert not [o for o in out if o['output_type'] == 'error'], f"cell {i} failed:\n{src}\n{out}"
            if 'Markdown(' in src: fresh[i] = out
    finally: os.chdir(cwd)
    return fresh

def markdown(outputs): return [''.join(o['data']['text/markdown']) for o in outputs if 'text/markdown' in o.get('data', {})]

def test_numbers_in_prose_are_the_committed_results():
    "Prose and tables made from results/ in `#| echo: false` cells are committed with the outputs those results give now."
    for name in PROSE:
        cells = json.loads((ROOT/'nbs'/name).read_text())['cells']
        fresh = results_prose(cells)
        assert fresh, f"{name}: no `#| echo: false` cell displays Markdown"
        for i, out in fresh.items():
            assert markdown(cells[i].get('outputs', [])) == markdown(out), \
                f"nbs/{name}, cell {i}: its committed output is not what results/ gives now: run the cell and commit its output"
