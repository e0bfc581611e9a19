"""A system lives in one place, the registry: a system registered in this process, with a trivial recipe and no other
change anywhere, runs in the smoke preset (in process, a trial), and the report, the figure and the results page
show it beside the seed's systems."""
import json
import pandas as pd
import pytest
import torch
from sel_nb.callbacks import DensePhase, Phase
from sel_nb.systems import SYSTEMS, System, register, reference_system
from sel_nb.record import RunConfig, RunFolder
from sel_nb.benchmark import run_benchmark
from sel_nb.results_folder import read_results

def half_data(s):
    "A trivial recipe: one dense epoch on every other training sample."
    return [Phase('dense', DensePhase(torch.arange(0, s.n_train, 2), s.epochs(1)))]

@pytest.fixture
def dummy():
    "The dummy system, registered for one test and taken out after it."
    yield register(System('dummy', 'Dummy', '#123456', half_data, default=False))
    SYSTEMS.pop('dummy')

def test_a_registered_system_runs_and_is_reported(dummy, tmp_path):
    out = tmp_path/'run'
    keys = ('baseline', 'sel95', 'dummy')
    summary = run_benchmark(RunConfig('smoke', experiments=keys, out=out, device='cpu', trial=2, progress=False), log=lambda *a: None)
    folder = RunFolder(out)
    assert list(summary.index) == list(keys) and summary.system['dummy'] == 'Dummy'
    csv = pd.read_csv(folder.summary_csv, index_col=0)
    assert 'dummy' in csv.index and csv.loc['dummy', 'system'] == 'Dummy' and pd.notna(csv.loc['dummy', 'saved_executed_mean'])  # measured against the reference
    assert folder.figure.stat().st_size > 0 and folder.page.stat().st_size > 0
    assert len(pd.read_csv(folder.hist('dummy', 0))) == 1
    data = read_results(out)
    assert {k: data['systems'][i][k] for i in [2] for k in ('key', 'label', 'color', 'known', 'reference', 'panels')} == \
        dict(key='dummy', label='Dummy', color='#123456', known=True, reference=False, panels=[])
    assert [s['key'] for s in data['systems'] if s['reference']] == [reference_system()] == ['baseline']
    assert list(data['hist']['dummy']) == ['0'] and data['finals']['dummy']['0']['status'] == 'done'
    assert 'dummy' in json.loads(folder.summary_json.read_text())['systems']

def test_the_registry_has_one_reference(dummy):
    register(System('dummy', 'Dummy', '#123456', half_data, default=False, reference=True))
    with pytest.raises(ValueError, match='more than one reference system registered: baseline, dummy'): reference_system()
